//! The report's charts, drawn on the server as SVG so they show without JavaScript. Each
//! chart has a title for screen readers and a tooltip per mark; the page also has the
//! numbers in tables.

use std::fmt::Write;

use keydesk_core::reports::DayFigures;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;
const IN_HOURS: &str = "#2f6fb0";
const OUT_OF_HOURS: &str = "#e0913a";
const TARGET: &str = "#c0392b";
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

struct Frame {
    svg: String,
    plot_width: f64,
    plot_height: f64,
    y_max: f64,
}

impl Frame {
    fn new(title: &str, y_max: f64, y_label: &str) -> Frame {
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>"#
        );
        let frame =
            Frame { svg, plot_width: WIDTH - LEFT - 8.0, plot_height: HEIGHT - TOP - BOTTOM, y_max: y_max.max(1.0) };
        let mut frame = frame;
        let base = TOP + frame.plot_height;
        let _ = write!(
            frame.svg,
            r##"<line x1="{LEFT}" y1="{base}" x2="{}" y2="{base}" stroke="#888"/><text x="{}" y="{}" font-size="11" text-anchor="end">{}</text><text x="{}" y="{base}" font-size="11" text-anchor="end">0</text><text x="4" y="{}" font-size="10">{y_label}</text>"##,
            WIDTH - 8.0,
            LEFT - 4.0,
            TOP + 10.0,
            round_label(frame.y_max),
            LEFT - 4.0,
            TOP + frame.plot_height / 2.0,
        );
        frame
    }

    fn y(&self, value: f64) -> f64 {
        TOP + self.plot_height - (value / self.y_max).min(1.0) * self.plot_height
    }

    fn date_labels(&mut self, days: &[DayFigures]) {
        if let (Some(first), Some(last)) = (days.first(), days.last()) {
            let y = HEIGHT - 6.0;
            let _ = write!(self.svg, r#"<text x="{LEFT}" y="{y}" font-size="11">{}</text>"#, first.date);
            let _ = write!(
                self.svg,
                r#"<text x="{}" y="{y}" font-size="11" text-anchor="end">{}</text>"#,
                WIDTH - 8.0,
                last.date
            );
        }
    }

    fn finish(mut self) -> String {
        self.svg.push_str("</svg>");
        self.svg
    }
}

fn round_label(value: f64) -> String {
    if value >= 10.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Tickets received per day, in working hours (blue) and out of them (orange), stacked.
pub fn volume(days: &[DayFigures]) -> String {
    let max = days.iter().map(|d| f64::from(d.received_in_hours + d.received_out_of_hours)).fold(0.0, f64::max);
    let mut frame = Frame::new("Tickets received per day, in and out of working hours", max, "tickets");
    let slot = frame.plot_width / days.len().max(1) as f64;
    let bar = (slot * 0.8).max(0.5);
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + i as f64 * slot;
        let (inside, outside) = (f64::from(day.received_in_hours), f64::from(day.received_out_of_hours));
        let (y_in, y_top) = (frame.y(inside), frame.y(inside + outside));
        let base = frame.y(0.0);
        let _ = write!(
            frame.svg,
            r#"<g><title>{}: {} in hours, {} out of hours</title><rect x="{x:.1}" y="{y_in:.1}" width="{bar:.1}" height="{:.1}" fill="{IN_HOURS}"/><rect x="{x:.1}" y="{y_top:.1}" width="{bar:.1}" height="{:.1}" fill="{OUT_OF_HOURS}"/></g>"#,
            day.date,
            day.received_in_hours,
            day.received_out_of_hours,
            base - y_in,
            y_in - y_top,
        );
    }
    frame.date_labels(days);
    frame.finish()
}

/// The median and 90th percentile time to unlock (business hours) of each day's tickets,
/// against the target.
pub fn unlock_times(days: &[DayFigures], target_seconds: i64) -> String {
    let hours = |seconds: i64| seconds as f64 / 3600.0;
    let max = days
        .iter()
        .filter_map(|d| d.unlock_business_seconds.p90)
        .map(hours)
        .fold(hours(target_seconds) * 1.25, f64::max);
    let mut frame =
        Frame::new("Time to unlock per day (business hours): median, 90th percentile and the target", max, "hours");
    let slot = frame.plot_width / days.len().max(1) as f64;
    for (series, colour, width) in [("90th percentile", "#9bb7d4", 1.5), ("median", IN_HOURS, 2.5)] {
        let mut points = String::new();
        for (i, day) in days.iter().enumerate() {
            let value =
                if series == "median" { day.unlock_business_seconds.median } else { day.unlock_business_seconds.p90 };
            if let Some(value) = value {
                let _ = write!(points, "{:.1},{:.1} ", LEFT + (i as f64 + 0.5) * slot, frame.y(hours(value)));
            }
        }
        let _ = write!(
            frame.svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="{width}"><title>{series}</title></polyline>"#,
            points.trim_end()
        );
    }
    for (i, day) in days.iter().enumerate() {
        if let Some(median) = day.unlock_business_seconds.median {
            let _ = write!(
                frame.svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{IN_HOURS}"><title>{}: median {}, 90th percentile {}</title></circle>"#,
                LEFT + (i as f64 + 0.5) * slot,
                frame.y(hours(median)),
                day.date,
                super::view::duration_words(Some(median)),
                super::view::duration_words(day.unlock_business_seconds.p90),
            );
        }
    }
    let y = frame.y(hours(target_seconds));
    let _ = write!(
        frame.svg,
        r#"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="{TARGET}" stroke-dasharray="6 4"><title>target {}</title></line>"#,
        WIDTH - 8.0,
        super::view::duration_words(Some(target_seconds)),
    );
    frame.date_labels(days);
    frame.finish()
}

/// Open tickets at the end of each day.
pub fn backlog(days: &[DayFigures]) -> String {
    let max = days.iter().map(|d| f64::from(d.backlog_at_end)).fold(0.0, f64::max);
    let mut frame = Frame::new("Backlog: open tickets at the end of each day", max, "open");
    let slot = frame.plot_width / days.len().max(1) as f64;
    let base = frame.y(0.0);
    let mut points = format!("{:.1},{base:.1} ", LEFT + 0.5 * slot);
    for (i, day) in days.iter().enumerate() {
        let _ = write!(points, "{:.1},{:.1} ", LEFT + (i as f64 + 0.5) * slot, frame.y(f64::from(day.backlog_at_end)));
    }
    let _ = write!(points, "{:.1},{base:.1}", LEFT + (days.len() as f64 - 0.5) * slot);
    let _ = write!(frame.svg, r##"<polygon points="{points}" fill="#c9dbef" stroke="{IN_HOURS}"/>"##);
    for (i, day) in days.iter().enumerate() {
        let _ = write!(
            frame.svg,
            r#"<rect x="{:.1}" y="{TOP}" width="{slot:.1}" height="{:.1}" fill="transparent"><title>{}: {} open</title></rect>"#,
            LEFT + i as f64 * slot,
            frame.plot_height,
            day.date,
            day.backlog_at_end,
        );
    }
    frame.date_labels(days);
    frame.finish()
}

/// Arrivals by weekday and hour of day (the desk's time zone): darker is busier.
pub fn heat_map(grid: &[[u32; 24]]) -> String {
    let max = grid.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let (cell_w, cell_h) = ((WIDTH - LEFT - 8.0) / 24.0, 20.0);
    let height = TOP + cell_h * 7.0 + 20.0;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Arrivals by weekday and hour" xmlns="http://www.w3.org/2000/svg"><title>Arrivals by weekday and hour</title>"#
    );
    for (day, hours) in grid.iter().enumerate() {
        let y = TOP + day as f64 * cell_h;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y + 14.0,
            WEEKDAYS[day]
        );
        for (hour, count) in hours.iter().enumerate() {
            let opacity = if *count == 0 { 0.04 } else { 0.15 + 0.85 * f64::from(*count) / max };
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{IN_HOURS}" fill-opacity="{opacity:.2}"><title>{} {:02}:00–{:02}:00: {count}</title></rect>"#,
                LEFT + hour as f64 * cell_w,
                cell_w - 1.0,
                cell_h - 1.0,
                WEEKDAYS[day],
                hour,
                hour + 1,
            );
        }
    }
    for hour in (0..24).step_by(3) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="10">{hour:02}</text>"#,
            LEFT + hour as f64 * cell_w,
            height - 4.0
        );
    }
    svg.push_str("</svg>");
    svg
}
