//! How an agent verified the person who wrote in, and the one rule about when they may:
//! if the sender is not authenticated, the mailbox challenge or a manager is required.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// How the agent satisfied themselves that the requester owns the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// The requester answered the challenge sent to the registered address.
    MailboxConfirmed,
    /// The agent called back a number on record.
    CallBack,
    /// The organisation's owner confirmed who they are.
    ConfirmedByOwner,
    /// Someone else responsible at the organisation (an admin, their manager) confirmed them.
    ConfirmedByOrganisation,
    /// Anything else; the agent's note says what.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown verification method {0:?}: expected one of mailbox_confirmed, call_back, confirmed_by_owner, confirmed_by_organisation, other"
)]
pub struct UnknownVerificationMethod(pub String);

/// Why a verification may not be recorded; the text is shown to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerificationRefusal {
    #[error("the mailbox challenge has not been answered, so the method cannot be \"mailbox confirmed\"")]
    MailboxNotConfirmed,
    #[error("the sender is not authenticated: the mailbox challenge must be answered, or a manager must verify")]
    SenderNotAuthenticated,
}

impl VerificationMethod {
    pub const ALL: [VerificationMethod; 5] = [
        VerificationMethod::MailboxConfirmed,
        VerificationMethod::CallBack,
        VerificationMethod::ConfirmedByOwner,
        VerificationMethod::ConfirmedByOrganisation,
        VerificationMethod::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VerificationMethod::MailboxConfirmed => "mailbox_confirmed",
            VerificationMethod::CallBack => "call_back",
            VerificationMethod::ConfirmedByOwner => "confirmed_by_owner",
            VerificationMethod::ConfirmedByOrganisation => "confirmed_by_organisation",
            VerificationMethod::Other => "other",
        }
    }
}

impl fmt::Display for VerificationMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VerificationMethod {
    type Err = UnknownVerificationMethod;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VerificationMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownVerificationMethod(s.to_owned()))
    }
}

/// Whether an agent may record a verification by `method`.
///
/// `sender_authenticated` should mean the registered address itself is proven to be the
/// sender: both the `sender_is_registered_address` and the `sender_authenticated` checks
/// passed (see [`super::registered_sender_authenticated`]). Without that, the mailbox
/// challenge must have been answered or the actor must be a manager, whatever the method.
/// "Mailbox confirmed" is only ever true when the challenge was answered.
pub fn may_verify(
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

    #[test]
    fn an_unauthenticated_sender_needs_the_challenge_or_a_manager() {
        // (method, sender authenticated, mailbox confirmed, actor is manager, expected)
        let cases = [
            (CallBack, true, false, false, Ok(())),
            (Other, true, false, false, Ok(())),
            (CallBack, false, false, false, Err(SenderNotAuthenticated)),
            (ConfirmedByOwner, false, false, false, Err(SenderNotAuthenticated)),
            (ConfirmedByOrganisation, false, false, false, Err(SenderNotAuthenticated)),
            (Other, false, false, false, Err(SenderNotAuthenticated)),
            (CallBack, false, true, false, Ok(())),
            (CallBack, false, false, true, Ok(())),
            (ConfirmedByOrganisation, false, false, true, Ok(())),
            (MailboxConfirmed, false, true, false, Ok(())),
            (MailboxConfirmed, true, true, false, Ok(())),
            // The method must be true, whoever records it.
            (MailboxConfirmed, true, false, false, Err(MailboxNotConfirmed)),
            (MailboxConfirmed, false, false, true, Err(MailboxNotConfirmed)),
        ];
        for (method, authenticated, confirmed, manager, expected) in cases {
            assert_eq!(
                may_verify(method, authenticated, confirmed, manager),
                expected,
                "{method} authenticated={authenticated} confirmed={confirmed} manager={manager}"
            );
        }
    }
}
