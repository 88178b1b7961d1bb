//! Which demo accounts end up locked: whatever the activity log said last about each one.

use super::planned::PlannedActivity;
use chrono::{DateTime, Utc};
use keydesk_core::EventKind;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct LockLedger {
    /// Per person: the instant of the latest lock or unlock seen, and the lock it left (if any).
    latest: HashMap<usize, (DateTime<Utc>, Option<DateTime<Utc>>)>,
}

impl LockLedger {
    pub fn note<'a>(&mut self, entries: impl IntoIterator<Item = &'a PlannedActivity>) {
        for entry in entries {
            let locked_at = match entry.kind {
                EventKind::AccountLocked => Some(entry.at),
                EventKind::AccountUnlocked => None,
                _ => continue,
            };
            let slot = self.latest.entry(entry.target).or_insert((entry.at, locked_at));
            if entry.at >= slot.0 {
                *slot = (entry.at, locked_at);
            }
        }
    }

    /// Each person seen, with the instant they are locked since, or `None` when unlocked.
    pub fn states(&self) -> impl Iterator<Item = (usize, Option<DateTime<Utc>>)> + '_ {
        self.latest.iter().map(|(&person, &(_, locked_at))| (person, locked_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::planned::{ActivityActor, ActivityDetail};

    fn entry(target: usize, kind: EventKind, minute: i64) -> PlannedActivity {
        let at = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(minute);
        PlannedActivity { at, kind, actor: ActivityActor::TheUser, target, detail: ActivityDetail::Text("") }
    }

    #[test]
    fn the_latest_lock_or_unlock_wins_in_any_order() {
        let mut ledger = LockLedger::default();
        ledger.note(&[
            entry(1, EventKind::AccountLocked, 10),
            entry(2, EventKind::AccountLocked, 10),
            entry(1, EventKind::UnlockPinSent, 30),
        ]);
        ledger.note(&[entry(2, EventKind::AccountUnlocked, 20), entry(1, EventKind::AccountUnlocked, 5)]);
        let mut states: Vec<_> = ledger.states().map(|(p, at)| (p, at.map(|at| at.timestamp() / 60))).collect();
        states.sort();
        assert_eq!(states, [(1, Some(10)), (2, None)]);
    }
}
