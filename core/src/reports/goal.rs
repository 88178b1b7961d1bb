//! Whether a target's compliance reaches the share of tickets the desk aims for
//! (`sla.compliance_goal`): the report flags a missed goal in words, not colour alone.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalVerdict {
    /// At least the goal's share met the target.
    Reached,
    /// Fewer did.
    Missed,
    /// No ticket met or breached the target yet: nothing to judge.
    Undecided,
}

impl GoalVerdict {
    /// `share` met of those decided (0–1, as `SlaCounts::met_share`) against `goal_percent`.
    pub fn of(share: Option<f64>, goal_percent: u8) -> GoalVerdict {
        match share {
            None => GoalVerdict::Undecided,
            // A hair of tolerance: 9 of 10 is 90% however the division rounds.
            Some(share) if share * 100.0 + 1e-9 >= f64::from(goal_percent) => GoalVerdict::Reached,
            Some(_) => GoalVerdict::Missed,
        }
    }

    pub fn is_missed(self) -> bool {
        self == GoalVerdict::Missed
    }
}

#[cfg(test)]
mod tests {
    use super::GoalVerdict::{self, Missed, Reached, Undecided};

    #[test]
    fn a_share_against_the_goal() {
        let cases = [
            (None, 90, Undecided),
            (Some(0.52), 90, Missed),
            (Some(9.0 / 10.0), 90, Reached),
            (Some(0.8999), 90, Missed),
            (Some(1.0), 100, Reached),
            (Some(0.0), 1, Missed),
            (Some(0.0), 0, Reached),
        ];
        for (share, goal, verdict) in cases {
            assert_eq!(GoalVerdict::of(share, goal), verdict, "{share:?} against {goal}%");
        }
    }
}
