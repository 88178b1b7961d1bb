//! One ticket's story, from the lock that made someone write to the unlock (or the giving
//! up) that ended it. Agents act only while the desk is open: each of their steps takes
//! business time, scaled by the agent's speed, so every agent action falls at an instant
//! at which the calendar is open. Users act on their own clock, any hour of the day.
//!
//! The story is told in full; the plan then cuts it at `now`.

use super::dice::{chance, delay};
use super::message::{RequestMessage, SenderKind, DEMO_AUTHSERV_ID};
use super::planned::{
    colleague_unlock, ActivityActor, ActivityDetail, PlannedActivity, PlannedEvent, PlannedVerification, FAILED_LOGINS,
};
use super::roster::Roster;
use chrono::{DateTime, Duration, Utc};
use keydesk_core::verification::{spoof_suspected, VerificationMethod};
use keydesk_core::{BusinessCalendar, EmailAddress, EventKind, TicketEventKind};
use rand::seq::SliceRandom;
use rand::Rng;

/// Typical business minutes (for an agent of speed 1.0) before each kind of step.
const PICK_UP_MINUTES: f64 = 35.0;
const STEP_MINUTES: f64 = 10.0;
const UNLOCK_MINUTES: f64 = 3.0;

/// Typical wall-clock minutes before the user answers.
const USER_REPLY_MINUTES: f64 = 180.0;
const LINK_FOLLOWED_MINUTES: f64 = 45.0;
const WRITES_AGAIN_MINUTES: f64 = 20.0 * 60.0;

/// How long the desk waits for an answer before giving up (the challenge link lives 24 h).
const GIVE_UP_AFTER: Duration = Duration::days(3);

const INTERNAL_NOTES: [&str; 4] = [
    "Tried the number on file; left a voicemail.",
    "Same person as last month: check the name carefully.",
    "The clinic's owner is on leave this week.",
    "Asked the organisation to confirm by phone.",
];

/// Ways an agent confirms an authenticated sender, with their weights and notes.
const AUTHENTICATED_METHODS: [(VerificationMethod, u32, &str); 3] = [
    (VerificationMethod::CallBack, 5, "called the number on file"),
    (VerificationMethod::ConfirmedByOwner, 3, "the owner confirmed by phone"),
    (VerificationMethod::Other, 2, "recognised on a video call"),
];

/// What the story left behind.
pub struct Told {
    pub events: Vec<PlannedEvent>,
    pub activity: Vec<PlannedActivity>,
    pub verification: Option<PlannedVerification>,
    pub mailbox_confirmed_at: Option<DateTime<Utc>>,
}

pub struct Story<'a, R: Rng> {
    rng: &'a mut R,
    calendar: &'a BusinessCalendar,
    roster: &'a Roster,
    account: usize,
    agent: usize,
    message: &'a RequestMessage,
    /// When the last thing happened.
    at: DateTime<Utc>,
    /// Set when the desk never opens again: nothing more can happen.
    stalled: bool,
    told: Told,
}

impl<'a, R: Rng> Story<'a, R> {
    pub fn new(
        rng: &'a mut R,
        calendar: &'a BusinessCalendar,
        roster: &'a Roster,
        account: usize,
        agent: usize,
        message: &'a RequestMessage,
        received_at: DateTime<Utc>,
    ) -> Self {
        let told = Told { events: Vec::new(), activity: Vec::new(), verification: None, mailbox_confirmed_at: None };
        Story { rng, calendar, roster, account, agent, message, at: received_at, stalled: false, told }
    }

    pub fn tell(mut self, kind: SenderKind) -> Told {
        self.intake();
        let taker = format!("to {}", self.roster.staff[self.agent].email);
        self.desk(self.agent, TicketEventKind::Assigned, PICK_UP_MINUTES, taker);
        if chance(self.rng, 0.08) {
            let note = INTERNAL_NOTES.choose(self.rng).expect("notes").to_string();
            self.desk(self.agent, TicketEventKind::Note, STEP_MINUTES, note);
        }
        let verified = match kind {
            SenderKind::Spoofed => self.mailbox_challenge(0.5),
            SenderKind::Personal if chance(self.rng, 0.7) => self.mailbox_challenge(0.85),
            // An unauthenticated sender needs the challenge or a manager.
            SenderKind::Personal => {
                self.verify(self.roster.manager(), VerificationMethod::CallBack, "called the number on file")
            }
            SenderKind::OnBehalf { .. } => self.verify(
                self.agent,
                VerificationMethod::ConfirmedByOrganisation,
                "the admin who wrote confirmed who they are",
            ),
            SenderKind::Registered => {
                if chance(self.rng, 0.18) && !self.ask_for_details() {
                    false
                } else if chance(self.rng, 0.15) {
                    self.mailbox_challenge(0.9)
                } else {
                    let (method, _, note) =
                        *AUTHENTICATED_METHODS.choose_weighted(self.rng, |m| m.1).expect("positive weights");
                    self.verify(self.agent, method, note)
                }
            }
        };
        if verified {
            if self.unlock() && chance(self.rng, 0.04) {
                self.reopened();
            }
        } else if !self.stalled {
            self.give_up(kind == SenderKind::Spoofed);
        }
        self.told
    }

    /// The lock, a little before the request; then intake's rows, all at arrival, in the
    /// order `intake::pipeline` records them, with the verdict it would give.
    fn intake(&mut self) {
        let locked_at = self.at - delay(self.rng, 20.0, 1.0);
        self.activity(locked_at, EventKind::AccountLocked, ActivityActor::TheUser, ActivityDetail::Text(FAILED_LOGINS));
        let from = format!("from {}", self.message.sender);
        self.event(None, TicketEventKind::Received, from);
        if let Some(why) = self.spoof_verdict() {
            self.event(None, TicketEventKind::SpoofSuspected, why);
        }
        self.event(None, TicketEventKind::Acknowledged, "automatic reply queued".into());
    }

    /// Why intake would suspect a spoof, trusting the demo's receiving server.
    fn spoof_verdict(&self) -> Option<String> {
        if self.message.authenticated {
            return None; // the common case, without parsing addresses
        }
        let sender = EmailAddress::parse(&self.message.sender).ok();
        let account = EmailAddress::parse(&self.roster.people[self.account].email).ok();
        spoof_suspected(sender.as_ref(), account.as_ref(), &[self.message.authentication_results()], DEMO_AUTHSERV_ID)
    }

    /// The agent asks for details and waits; true when the user answers.
    fn ask_for_details(&mut self) -> bool {
        self.desk(self.agent, TicketEventKind::AgentReplied, STEP_MINUTES, String::new());
        self.desk(self.agent, TicketEventKind::WaitingOnUser, 0.0, String::new());
        chance(self.rng, 0.8)
            && self.user(TicketEventKind::UserReplied, USER_REPLY_MINUTES, format!("from {}", self.message.sender))
    }

    /// A link to the registered address; true when it was followed and the sender verified.
    fn mailbox_challenge(&mut self, answered: f64) -> bool {
        let email = self.roster.people[self.account].email.clone();
        self.desk(
            self.agent,
            TicketEventKind::ChallengeSent,
            STEP_MINUTES,
            format!("to the registered address {email}"),
        );
        if !chance(self.rng, answered)
            || !self.user(
                TicketEventKind::MailboxConfirmed,
                LINK_FOLLOWED_MINUTES,
                format!("{email} followed the link"),
            )
        {
            return false;
        }
        self.told.mailbox_confirmed_at = Some(self.at);
        self.verify(self.agent, VerificationMethod::MailboxConfirmed, "the registered address answered the challenge")
    }

    fn verify(&mut self, by: usize, method: VerificationMethod, note: &'static str) -> bool {
        if !self.desk(by, TicketEventKind::Verified, STEP_MINUTES, format!("{}: {note}", method.as_str())) {
            return false;
        }
        self.told.verification = Some(PlannedVerification { at: self.at, by, method, note });
        true
    }

    /// Unlock and resolve in one go, as `queue::unlock` does.
    fn unlock(&mut self) -> bool {
        let email = &self.roster.people[self.account].email;
        if !self.desk(
            self.agent,
            TicketEventKind::Unlocked,
            UNLOCK_MINUTES,
            format!("{email} unlocked; the user was emailed"),
        ) {
            return false;
        }
        self.desk(self.agent, TicketEventKind::Resolved, 0.0, "unlocked".into());
        self.activity(
            self.at,
            EventKind::AccountUnlocked,
            ActivityActor::Staff(self.agent),
            ActivityDetail::TicketNumber,
        );
        true
    }

    /// The user writes again after the unlock, and the agent answers.
    fn reopened(&mut self) {
        if self.user(TicketEventKind::UserReplied, WRITES_AGAIN_MINUTES, format!("from {}", self.message.sender)) {
            self.event(None, TicketEventKind::Reopened, "the user wrote again".into());
            self.desk(self.agent, TicketEventKind::AgentReplied, STEP_MINUTES, String::new());
            self.desk(self.agent, TicketEventKind::Resolved, 0.0, "answered the user's question".into());
        }
    }

    /// No answer: the organisation unlocks the account itself in the meantime (for a
    /// suspected spoof, once the real user asks them), and the desk resolves without
    /// verifying or unlocking.
    fn give_up(&mut self, spoof_suspected: bool) {
        let org_unlocks_after =
            if spoof_suspected { delay(self.rng, 2.0 * 24.0 * 60.0, 0.5) } else { delay(self.rng, 6.0 * 60.0, 0.8) };
        let unlock = colleague_unlock(self.rng, self.roster, self.account, self.at + org_unlocks_after);
        self.told.activity.push(unlock);
        self.at += GIVE_UP_AFTER;
        let reason = if spoof_suspected {
            "the challenge was not answered: not from the account holder"
        } else {
            "no answer from the user; the organisation unlocked the account"
        };
        self.desk(self.agent, TicketEventKind::Resolved, STEP_MINUTES, reason.into());
    }

    /// An agent's step, `median_minutes` of open desk time after the last thing (0: at once,
    /// which is still open, since the last thing was theirs too); false if the desk never opens.
    fn desk(&mut self, by: usize, kind: TicketEventKind, median_minutes: f64, detail: String) -> bool {
        if self.stalled {
            return false;
        }
        let work = if median_minutes > 0.0 {
            delay(self.rng, median_minutes * self.roster.staff[by].speed, 0.9)
        } else {
            Duration::zero()
        };
        match desk_time(self.calendar, self.at, work) {
            Some(at) => {
                self.at = at;
                self.event(Some(by), kind, detail);
                true
            }
            None => {
                self.stalled = true;
                false
            }
        }
    }

    /// The user's step, on their own clock.
    fn user(&mut self, kind: TicketEventKind, median_minutes: f64, detail: String) -> bool {
        if self.stalled {
            return false;
        }
        self.at += delay(self.rng, median_minutes, 1.0);
        self.event(None, kind, detail);
        true
    }

    fn event(&mut self, actor: Option<usize>, kind: TicketEventKind, detail: String) {
        self.told.events.push(PlannedEvent { at: self.at, kind, actor, detail });
    }

    fn activity(&mut self, at: DateTime<Utc>, kind: EventKind, actor: ActivityActor, detail: ActivityDetail) {
        self.told.activity.push(PlannedActivity { at, kind, actor, target: self.account, detail });
    }
}

/// The instant someone who starts at `after` has spent `work` of open desk time: always an
/// instant at which the desk is open. `None` when the desk does not open within two years.
pub fn desk_time(calendar: &BusinessCalendar, after: DateTime<Utc>, work: Duration) -> Option<DateTime<Utc>> {
    let mut at = calendar.next_opening(after)?;
    let mut left = work;
    loop {
        match calendar.next_closing(at) {
            // Open for the next two years: no closing to step over.
            None => return Some(at + left),
            Some(closes) if at + left < closes => return Some(at + left),
            Some(closes) => {
                left -= closes - at;
                at = calendar.next_opening(closes)?;
            }
        }
    }
}
