//! Who sees which figures: managers everything, an agent their own, an organisation's owner
//! their organisation's. Everyone else has no reports.

use crate::roles::{OrgRole, Role, StaffRole};

/// What a signed-in person's reports may cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Everything,
    /// The tickets this agent handled.
    OwnTickets {
        agent: i64,
    },
    Organisation {
        organisation: i64,
    },
}

impl Audience {
    pub fn of(role: Role, user_id: i64, organisation_id: Option<i64>) -> Option<Audience> {
        match role {
            Role::Staff(StaffRole::Manager) => Some(Audience::Everything),
            Role::Staff(StaffRole::Agent) => Some(Audience::OwnTickets { agent: user_id }),
            Role::Org(OrgRole::Owner) => organisation_id.map(|organisation| Audience::Organisation { organisation }),
            _ => None,
        }
    }

    /// The scope of a report asked for with these filters, or why it is refused.
    pub fn scope(self, organisation: Option<i64>, agent: Option<i64>) -> Result<ReportScope, ScopeRefused> {
        match self {
            Audience::Everything => Ok(ReportScope { organisation, agent }),
            Audience::OwnTickets { agent: me } if agent.is_none_or(|asked| asked == me) => {
                Ok(ReportScope { organisation, agent: Some(me) })
            }
            Audience::OwnTickets { .. } => Err(ScopeRefused::OtherAgent),
            Audience::Organisation { .. } if agent.is_some() => Err(ScopeRefused::AgentFilter),
            Audience::Organisation { organisation: mine } if organisation.is_none_or(|asked| asked == mine) => {
                Ok(ReportScope { organisation: Some(mine), agent: None })
            }
            Audience::Organisation { .. } => Err(ScopeRefused::OtherOrganisation),
        }
    }
}

/// Which tickets a report counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportScope {
    pub organisation: Option<i64>,
    /// Only tickets this agent handled.
    pub agent: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScopeRefused {
    #[error("agents see their own figures only")]
    OtherAgent,
    #[error("owners see their own organisation's figures only")]
    OtherOrganisation,
    #[error("owners cannot filter by agent")]
    AgentFilter,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_sees_what() {
        let manager = Audience::of(Role::Staff(StaffRole::Manager), 1, None).unwrap();
        let agent = Audience::of(Role::Staff(StaffRole::Agent), 2, None).unwrap();
        let owner = Audience::of(Role::Org(OrgRole::Owner), 3, Some(10)).unwrap();
        for role in [Role::Org(OrgRole::Admin), Role::Org(OrgRole::Member), Role::Staff(StaffRole::Operator)] {
            assert_eq!(Audience::of(role, 4, Some(10)), None, "{role:?}");
        }
        assert_eq!(manager.scope(Some(10), Some(2)), Ok(ReportScope { organisation: Some(10), agent: Some(2) }));
        assert_eq!(agent.scope(None, None), Ok(ReportScope { organisation: None, agent: Some(2) }));
        assert_eq!(agent.scope(Some(10), Some(2)), Ok(ReportScope { organisation: Some(10), agent: Some(2) }));
        assert_eq!(agent.scope(None, Some(5)), Err(ScopeRefused::OtherAgent));
        assert_eq!(owner.scope(None, None), Ok(ReportScope { organisation: Some(10), agent: None }));
        assert_eq!(owner.scope(Some(11), None), Err(ScopeRefused::OtherOrganisation));
        assert_eq!(owner.scope(None, Some(2)), Err(ScopeRefused::AgentFilter));
    }
}
