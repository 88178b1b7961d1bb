//! Who may do what. Organisation roles belong to a company or clinic; staff roles belong to
//! the support desk that runs Keydesk and have no organisation.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    Member,
    /// May add and update users, and so (under the `admins` policy) unlock them.
    Admin,
    Owner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Works the support queue.
    Agent,
    /// Reviews service hours; may do what an agent does.
    Manager,
    /// Installs and runs Keydesk; sees system health, not people's accounts.
    Operator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Role {
    Org(OrgRole),
    Staff(StaffRole),
}

/// How an organisation's locked users get unlocked without support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnlockPolicy {
    /// Anyone who may add and update users may unlock (the first seed).
    #[default]
    Admins,
    /// Only the owner, confirmed by a PIN emailed to them (the second seed).
    OwnerPin,
}

/// What a person may do about a locked user of their organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlockPermission {
    Unlock,
    UnlockWithPin,
    /// Shown greyed out: the button is visible but may not be used.
    Denied,
    /// An admin about an owner: greyed out too, for another owner or support unlocks an owner.
    OwnersOnly,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected one of member, admin, owner, agent, manager, operator")]
pub struct UnknownRole(pub String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown unlock policy {0:?}: expected admins or owner_pin")]
pub struct UnknownUnlockPolicy(pub String);

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Org(OrgRole::Member),
        Role::Org(OrgRole::Admin),
        Role::Org(OrgRole::Owner),
        Role::Staff(StaffRole::Agent),
        Role::Staff(StaffRole::Manager),
        Role::Staff(StaffRole::Operator),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Org(OrgRole::Member) => "member",
            Role::Org(OrgRole::Admin) => "admin",
            Role::Org(OrgRole::Owner) => "owner",
            Role::Staff(StaffRole::Agent) => "agent",
            Role::Staff(StaffRole::Manager) => "manager",
            Role::Staff(StaffRole::Operator) => "operator",
        }
    }

    pub fn is_staff(self) -> bool {
        matches!(self, Role::Staff(_))
    }

    pub fn org_role(self) -> Option<OrgRole> {
        match self {
            Role::Org(role) => Some(role),
            Role::Staff(_) => None,
        }
    }

    /// May list, add and update the users of their own organisation ("Manage Users").
    pub fn may_manage_users(self) -> bool {
        matches!(self, Role::Org(OrgRole::Admin | OrgRole::Owner))
    }

    /// May read the activity log: an organisation's admins and owner see their
    /// organisation's; agents and managers see everyone's.
    pub fn may_view_activities(self) -> bool {
        matches!(self, Role::Org(OrgRole::Admin | OrgRole::Owner) | Role::Staff(StaffRole::Agent | StaffRole::Manager))
    }

    /// May look up any account and its events (staff pages and the JSON API).
    /// Managers (everything), agents (their own figures), owners (their organisation's).
    pub fn may_view_reports(self) -> bool {
        matches!(self, Role::Staff(StaffRole::Agent | StaffRole::Manager) | Role::Org(OrgRole::Owner))
    }

    pub fn may_read_all_accounts(self) -> bool {
        matches!(self, Role::Staff(StaffRole::Agent | StaffRole::Manager))
    }

    /// What this person may do about a locked user of their own organisation whose role is
    /// `target`. An admin may not unlock an owner, as they may not edit one: each unlock
    /// gives whoever is guessing the owner's password five more tries.
    pub fn unlock_permission(self, target: Role, policy: UnlockPolicy) -> UnlockPermission {
        match (self, policy) {
            (Role::Org(OrgRole::Admin), _) if target == Role::Org(OrgRole::Owner) => UnlockPermission::OwnersOnly,
            (Role::Org(OrgRole::Admin | OrgRole::Owner), UnlockPolicy::Admins) => UnlockPermission::Unlock,
            (Role::Org(OrgRole::Owner), UnlockPolicy::OwnerPin) => UnlockPermission::UnlockWithPin,
            _ => UnlockPermission::Denied,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// How the database layer reads a stored role back.
impl TryFrom<String> for Role {
    type Error = UnknownRole;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl UnlockPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            UnlockPolicy::Admins => "admins",
            UnlockPolicy::OwnerPin => "owner_pin",
        }
    }
}

impl FromStr for UnlockPolicy {
    type Err = UnknownUnlockPolicy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admins" => Ok(UnlockPolicy::Admins),
            "owner_pin" => Ok(UnlockPolicy::OwnerPin),
            other => Err(UnknownUnlockPolicy(other.to_owned())),
        }
    }
}

/// How the database layer reads a stored policy back.
impl TryFrom<String> for UnlockPolicy {
    type Error = UnknownUnlockPolicy;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use UnlockPermission::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn unlock_permissions_follow_the_organisation_policy() {
        let table = [
            ("member", UnlockPolicy::Admins, Denied),
            ("admin", UnlockPolicy::Admins, Unlock),
            ("owner", UnlockPolicy::Admins, Unlock),
            ("member", UnlockPolicy::OwnerPin, Denied),
            ("admin", UnlockPolicy::OwnerPin, Denied),
            ("owner", UnlockPolicy::OwnerPin, UnlockWithPin),
            ("agent", UnlockPolicy::Admins, Denied),
            ("manager", UnlockPolicy::OwnerPin, Denied),
            ("operator", UnlockPolicy::Admins, Denied),
        ];
        let member = Role::Org(OrgRole::Member);
        for (role, policy, expected) in table {
            assert_eq!(
                role.parse::<Role>().unwrap().unlock_permission(member, policy),
                expected,
                "{role} under {policy:?}"
            );
        }
        // An owner's lock is lifted by another owner (or support), never by an admin.
        let (owner, admin) = (Role::Org(OrgRole::Owner), Role::Org(OrgRole::Admin));
        assert_eq!(admin.unlock_permission(owner, UnlockPolicy::Admins), OwnersOnly);
        assert_eq!(admin.unlock_permission(owner, UnlockPolicy::OwnerPin), OwnersOnly);
        assert_eq!(admin.unlock_permission(admin, UnlockPolicy::Admins), Unlock);
        assert_eq!(owner.unlock_permission(owner, UnlockPolicy::Admins), Unlock);
        assert_eq!(owner.unlock_permission(owner, UnlockPolicy::OwnerPin), UnlockWithPin);
    }

    #[test]
    fn only_admins_and_owners_manage_users() {
        let managers: Vec<_> = Role::ALL.into_iter().filter(|r| r.may_manage_users()).map(Role::as_str).collect();
        assert_eq!(managers, ["admin", "owner"]);
    }
}
