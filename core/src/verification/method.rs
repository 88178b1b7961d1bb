//! How an agent verified the person who wrote in, and the one rule about when they may:
//! if the sender is not authenticated, the mailbox challenge or a manager is required.

crate::stored_as_text! {
    /// How the agent satisfied themselves that the requester owns the account.
    pub enum VerificationMethod / UnknownVerificationMethod ("verification method") {
        /// The requester answered the challenge sent to the registered address.
        MailboxConfirmed = "mailbox_confirmed", "mailbox confirmed";
        /// The agent called back a number on record.
        CallBack = "call_back", "call back";
        /// The organisation's owner confirmed who they are.
        ConfirmedByOwner = "confirmed_by_owner", "confirmed by owner";
        /// Someone else responsible at the organisation (an admin, their manager) confirmed them.
        ConfirmedByOrganisation = "confirmed_by_organisation", "confirmed by organisation";
        /// Anything else; the agent's note says what.
        Other = "other", "other";
        /// The user answered the challenge sent to the registered address with a current code
        /// from the authenticator app they set up: their mailbox *and* their phone. Recorded by
        /// the challenge itself, never chosen by an agent.
        AuthenticatorCode = "authenticator_code", "authenticator code";
    }
}

/// Why a verification may not be recorded; the text is shown to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerificationRefusal {
    #[error("the mailbox challenge has not been answered, so the method cannot be \"mailbox confirmed\"")]
    MailboxNotConfirmed,
    #[error("the sender is not authenticated: the mailbox challenge must be answered, or a manager must verify")]
    SenderNotAuthenticated,
    #[error("no one from the organisation wrote on the user's behalf")]
    NoRequester,
    #[error("the requester's email is not authenticated: a manager must verify")]
    RequesterNotAuthenticated,
    #[error("only the user's own authenticator code, typed on the challenge page, records that method")]
    OnlyTheUsersCode,
}

impl VerificationRefusal {
    /// The API's `error` code for every refusal.
    pub const CODE: &'static str = "verification_refused";
}

/// What the verification rule looks at for one ticket and one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerificationFacts {
    /// The From header is the registered address and our receiving server authenticated it
    /// (see [`super::registered_sender_authenticated`]).
    pub registered_sender_authenticated: bool,
    /// The mailbox challenge to the registered address was answered.
    pub mailbox_confirmed: bool,
    /// An admin or owner of the user's organisation wrote on their behalf, about a known account.
    pub requester: Option<Requester>,
    pub actor_is_manager: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requester {
    /// Our receiving server authenticated the requester's own mail.
    pub authenticated: bool,
}

/// Whether an agent may record a verification of this ticket by `method`: the one rule the
/// action enforces and the ticket page shows.
///
/// "Confirmed by organisation" means the organisation vouches through the admin or owner who
/// wrote on the user's behalf: their mail must be authenticated, or a manager must verify.
/// For every other method the sender must be the registered address, authenticated —
/// otherwise the mailbox challenge must have been answered or the actor must be a manager.
/// "Mailbox confirmed" is only ever true when the challenge was answered.
pub fn may_verify_ticket(method: VerificationMethod, facts: &VerificationFacts) -> Result<(), VerificationRefusal> {
    if method == VerificationMethod::AuthenticatorCode {
        return Err(VerificationRefusal::OnlyTheUsersCode);
    }
    if method == VerificationMethod::ConfirmedByOrganisation {
        let requester = facts.requester.ok_or(VerificationRefusal::NoRequester)?;
        return match requester.authenticated || facts.actor_is_manager {
            true => Ok(()),
            false => Err(VerificationRefusal::RequesterNotAuthenticated),
        };
    }
    may_verify(method, facts.registered_sender_authenticated, facts.mailbox_confirmed, facts.actor_is_manager)
}

/// Whether an agent may record a verification by `method`.
///
/// `sender_authenticated` should mean the registered address itself is proven to be the
/// sender: both the `sender_is_registered_address` and the `sender_authenticated` checks
/// passed (see [`super::registered_sender_authenticated`]). Without that, the mailbox
/// challenge must have been answered or the actor must be a manager, whatever the method.
/// "Mailbox confirmed" is only ever true when the challenge was answered.
fn may_verify(
    method: VerificationMethod,
    sender_authenticated: bool,
    mailbox_confirmed: bool,
    actor_is_manager: bool,
) -> Result<(), VerificationRefusal> {
    if method == VerificationMethod::MailboxConfirmed && !mailbox_confirmed {
        return Err(VerificationRefusal::MailboxNotConfirmed);
    }
    if !sender_authenticated && !mailbox_confirmed && !actor_is_manager {
        return Err(VerificationRefusal::SenderNotAuthenticated);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use VerificationMethod::*;
    use VerificationRefusal::*;

    #[test]
    fn methods_round_trip_through_their_snake_case_names() {
        for method in VerificationMethod::ALL {
            assert_eq!(method.as_str().parse::<VerificationMethod>(), Ok(method));
            assert_eq!(serde_json::to_string(&method).unwrap(), format!("\"{method}\""));
        }
        assert_eq!(ConfirmedByOrganisation.as_str(), "confirmed_by_organisation");
        for unknown in ["", "Call_Back", "callback", "confirmed_by_organization"] {
            assert_eq!(unknown.parse::<VerificationMethod>(), Err(UnknownVerificationMethod(unknown.into())));
        }
    }

    fn facts(authenticated: bool, confirmed: bool, manager: bool) -> VerificationFacts {
        VerificationFacts {
            registered_sender_authenticated: authenticated,
            mailbox_confirmed: confirmed,
            requester: None,
            actor_is_manager: manager,
        }
    }

    #[test]
    fn an_unauthenticated_sender_needs_the_challenge_or_a_manager() {
        // (method, sender authenticated, mailbox confirmed, actor is manager, expected)
        let cases = [
            (CallBack, true, false, false, Ok(())),
            (Other, true, false, false, Ok(())),
            (CallBack, false, false, false, Err(SenderNotAuthenticated)),
            (ConfirmedByOwner, false, false, false, Err(SenderNotAuthenticated)),
            (Other, false, false, false, Err(SenderNotAuthenticated)),
            (CallBack, false, true, false, Ok(())),
            (CallBack, false, false, true, Ok(())),
            (MailboxConfirmed, false, true, false, Ok(())),
            (MailboxConfirmed, true, true, false, Ok(())),
            // The method must be true, whoever records it.
            (MailboxConfirmed, true, false, false, Err(MailboxNotConfirmed)),
            (MailboxConfirmed, false, false, true, Err(MailboxNotConfirmed)),
        ];
        for (method, authenticated, confirmed, manager, expected) in cases {
            assert_eq!(
                may_verify_ticket(method, &facts(authenticated, confirmed, manager)),
                expected,
                "{method} authenticated={authenticated} confirmed={confirmed} manager={manager}"
            );
        }
    }

    #[test]
    fn the_organisation_vouches_through_an_authenticated_requester_or_a_manager() {
        let with = |requester: Option<bool>, manager: bool| VerificationFacts {
            requester: requester.map(|authenticated| Requester { authenticated }),
            ..facts(false, false, manager)
        };
        let cases = [
            (None, false, Err(NoRequester)),
            (None, true, Err(NoRequester)),
            (Some(false), false, Err(RequesterNotAuthenticated)),
            (Some(false), true, Ok(())),
            (Some(true), false, Ok(())),
        ];
        for (requester, manager, expected) in cases {
            assert_eq!(
                may_verify_ticket(ConfirmedByOrganisation, &with(requester, manager)),
                expected,
                "requester {requester:?}, manager {manager}"
            );
        }
    }
}
