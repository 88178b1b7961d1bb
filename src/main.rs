use clap::Parser;
use keydesk::cli::{run_admin, Cli, Command};
use keydesk::config::Config;
use std::process::ExitCode;

#[rocket::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version are answers, not errors.
        Err(error) if !error.use_stderr() => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprint!("keydesk: {}", error.to_string().trim_start_matches("error: "));
            return ExitCode::FAILURE;
        }
    };
    let figment = keydesk::figment();
    match cli.command.unwrap_or(Command::Serve { no_worker: false }) {
        // Before the configuration is read: a bad one is the doctor's first finding.
        Command::Doctor => keydesk::cli::doctor(&figment).await,
        Command::Serve { no_worker: false } => serve(figment).await,
        Command::Serve { no_worker: true } => serve(figment.merge(("worker", false))).await,
        Command::Worker => match keydesk::run_worker(keydesk::logs::install(figment)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("keydesk: cannot start: {error}");
                ExitCode::FAILURE
            }
        },
        admin => {
            let outcome = Config::from_figment(&figment).map_err(anyhow::Error::from).and_then(|config| {
                // Diesel blocks; the admin commands are short and run before any server.
                tokio_block_in_place(|| run_admin(admin, config))
            });
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("keydesk: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn tokio_block_in_place<T>(work: impl FnOnce() -> T) -> T {
    rocket::tokio::task::block_in_place(work)
}

async fn serve(figment: rocket::figment::Figment) -> ExitCode {
    // Before Rocket's launch, which then keeps its own logger out.
    let figment = keydesk::logs::install(figment);
    let rocket = match keydesk::build(figment) {
        Ok(rocket) => rocket,
        Err(error) => {
            eprintln!("keydesk: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match rocket.launch().await {
        Ok(rocket) => {
            if let Some(services) = rocket.state::<keydesk::app::Services>() {
                keydesk::finish_background_work(services).await;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("keydesk: {error}");
            ExitCode::FAILURE
        }
    }
}
