//! The demo's cast: a handful of clinics and companies with their people, and the support
//! desk's manager and agents. Pure and deterministic: person `i` is the same person whatever
//! the number of tickets, so a larger seed only adds people and a second run finds the
//! first run's people by their email addresses.
//!
//! Every address is under a `.example` domain (reserved, RFC 2606), so mail to a demo user
//! can never reach a real mailbox.

use keydesk_core::{OrgRole, StaffRole, UnlockPolicy};

/// The support desk's own domain (staff addresses).
pub const DESK_DOMAIN: &str = "helpdesk.example";

/// An organisation whose users the demo desk looks after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOrganisation {
    pub name: &'static str,
    pub slug: &'static str,
    pub domain: &'static str,
    pub policy: UnlockPolicy,
    /// Its share of the members: larger organisations lock out more people.
    pub size: u32,
}

pub const ORGANISATIONS: [DemoOrganisation; 8] = [
    DemoOrganisation {
        name: "Northfield Family Clinic",
        slug: "northfield-clinic",
        domain: "northfield-clinic.example",
        policy: UnlockPolicy::Admins,
        size: 3,
    },
    DemoOrganisation {
        name: "Riverside Dental Practice",
        slug: "riverside-dental",
        domain: "riverside-dental.example",
        policy: UnlockPolicy::OwnerPin,
        size: 1,
    },
    DemoOrganisation {
        name: "Harbour Physiotherapy",
        slug: "harbour-physio",
        domain: "harbour-physio.example",
        policy: UnlockPolicy::Admins,
        size: 1,
    },
    DemoOrganisation {
        name: "St Anne's Medical Centre",
        slug: "st-annes-medical",
        domain: "st-annes-medical.example",
        policy: UnlockPolicy::OwnerPin,
        size: 3,
    },
    DemoOrganisation {
        name: "Brightwater Logistics",
        slug: "brightwater-logistics",
        domain: "brightwater-logistics.example",
        policy: UnlockPolicy::Admins,
        size: 4,
    },
    DemoOrganisation {
        name: "Oakline Architects",
        slug: "oakline-architects",
        domain: "oakline-architects.example",
        policy: UnlockPolicy::Admins,
        size: 1,
    },
    DemoOrganisation {
        name: "Copperleaf Accounting",
        slug: "copperleaf-accounting",
        domain: "copperleaf-accounting.example",
        policy: UnlockPolicy::OwnerPin,
        size: 2,
    },
    DemoOrganisation {
        name: "Meridian Software",
        slug: "meridian-software",
        domain: "meridian-software.example",
        policy: UnlockPolicy::Admins,
        size: 5,
    },
];

/// Someone at one of the organisations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub full_name: String,
    pub first_name: &'static str,
    pub email: String,
    pub role: OrgRole,
    /// Index into [`ORGANISATIONS`].
    pub organisation: usize,
}

/// Someone at the support desk. `speed` scales how long they take over each step: 0.6 is
/// quick, 1.8 slow.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffMember {
    pub full_name: &'static str,
    pub email: String,
    pub role: StaffRole,
    pub speed: f64,
}

const STAFF: [(&str, StaffRole, f64); 6] = [
    ("Morgan Hale", StaffRole::Manager, 1.0),
    ("Ada Brooks", StaffRole::Agent, 0.6),
    ("Ben Okafor", StaffRole::Agent, 0.8),
    ("Chloe Martin", StaffRole::Agent, 1.0),
    ("Dev Patel", StaffRole::Agent, 1.3),
    ("Eva Lindqvist", StaffRole::Agent, 1.8),
];

const FIRST_NAMES: [&str; 40] = [
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Leo", "Grace", "Oscar", "Freya",
    "Harry", "Lily", "Jack", "Rosie", "Charlie", "Ella", "Thomas", "Sofia", "James", "Evie", "William", "Maya",
    "Henry", "Poppy", "Samuel", "Zara", "Daniel", "Nina", "Joseph", "Hannah", "Lucas", "Chloe", "Adam", "Ruby", "Omar",
    "Aisha", "Felix",
];

const LAST_NAMES: [&str; 50] = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Lewis",
    "James",
    "Phillips",
    "Mason",
    "Mitchell",
    "Rose",
    "Davis",
    "Rodriguez",
    "Cox",
    "Alexander",
    "Morgan",
    "Moore",
    "Mills",
    "Chapman",
    "Ward",
    "Hughes",
    "Nowak",
    "Kowalski",
    "Murphy",
    "Kelly",
    "Okoye",
    "Mensah",
    "Silva",
    "Costa",
    "Rossi",
    "Novak",
    "Berg",
    "Fischer",
];

/// Members per ticket: few enough that accounts repeat (people lock themselves out again),
/// bounded so a million tickets give a few thousand people.
const TICKETS_PER_MEMBER: usize = 200;
const MIN_MEMBERS: usize = 40;
const MAX_MEMBERS: usize = 4_000;

/// The whole cast for a seed of some size.
#[derive(Debug, Clone, PartialEq)]
pub struct Roster {
    /// Each organisation's owner and admins first (the same for every size), then members.
    pub people: Vec<Person>,
    /// The manager first, then the agents.
    pub staff: Vec<StaffMember>,
}

impl Roster {
    pub fn for_tickets(tickets: usize) -> Roster {
        let leaders = organisation_leaders();
        let members = (tickets / TICKETS_PER_MEMBER).clamp(MIN_MEMBERS, MAX_MEMBERS);
        let member_organisations = SizeWeights::new();
        let people = leaders
            .iter()
            .copied()
            .chain((0..members).map(|m| (member_organisations.organisation_of(m), OrgRole::Member)))
            .enumerate()
            .map(|(index, (organisation, role))| person(index, organisation, role))
            .collect();
        let staff = STAFF
            .iter()
            .map(|&(full_name, role, speed)| StaffMember {
                full_name,
                email: address(full_name, 0, DESK_DOMAIN),
                role,
                speed,
            })
            .collect();
        Roster { people, staff }
    }

    pub fn manager(&self) -> usize {
        0
    }

    /// Staff indexes of the agents.
    pub fn agents(&self) -> impl Iterator<Item = usize> + '_ {
        self.staff.iter().enumerate().filter(|(_, s)| s.role == StaffRole::Agent).map(|(i, _)| i)
    }

    /// The owner of organisation `organisation` (a person index).
    pub fn owner_of(&self, organisation: usize) -> usize {
        self.leaders_of(organisation)
            .find(|&p| self.people[p].role == OrgRole::Owner)
            .expect("every demo organisation has an owner")
    }

    /// The owner and admins of an organisation, as person indexes.
    pub fn leaders_of(&self, organisation: usize) -> impl Iterator<Item = usize> + '_ {
        self.people
            .iter()
            .enumerate()
            .take_while(|(_, p)| p.role != OrgRole::Member)
            .filter(move |(_, p)| p.organisation == organisation)
            .map(|(i, _)| i)
    }

    /// Every domain a demo address is under.
    pub fn domains() -> impl Iterator<Item = &'static str> {
        ORGANISATIONS.iter().map(|o| o.domain).chain([DESK_DOMAIN])
    }
}

/// Each organisation's owner, then an admin, and a second admin in every other one.
fn organisation_leaders() -> Vec<(usize, OrgRole)> {
    (0..ORGANISATIONS.len())
        .flat_map(|org| {
            let second_admin = (org % 2 == 0).then_some((org, OrgRole::Admin));
            [(org, OrgRole::Owner), (org, OrgRole::Admin)].into_iter().chain(second_admin)
        })
        .collect()
}

/// Spreads members over the organisations by size, evenly and without randomness: member
/// `m` goes where the running share is furthest behind.
struct SizeWeights {
    /// Organisation indexes, each repeated `size` times, interleaved.
    cycle: Vec<usize>,
}

impl SizeWeights {
    fn new() -> SizeWeights {
        let largest = ORGANISATIONS.iter().map(|o| o.size).max().unwrap_or(1);
        let cycle = (0..largest)
            .flat_map(|round| ORGANISATIONS.iter().enumerate().filter(move |(_, o)| o.size > round).map(|(i, _)| i))
            .collect();
        SizeWeights { cycle }
    }

    fn organisation_of(&self, member: usize) -> usize {
        self.cycle[member % self.cycle.len()]
    }
}

/// Person `index`: a name unique within each round of 2,000 (first × last names), and a
/// round number in the address after the first round, so every address is unique.
fn person(index: usize, organisation: usize, role: OrgRole) -> Person {
    let combinations = FIRST_NAMES.len() * LAST_NAMES.len();
    let (round, k) = (index / combinations, index % combinations);
    let first = FIRST_NAMES[k % FIRST_NAMES.len()];
    // For each first name, a bijection onto the last names (1 + 31 × 40 is coprime with 50),
    // so that neighbours in the list do not share a surname.
    let last = LAST_NAMES[(k / FIRST_NAMES.len() + 31 * k) % LAST_NAMES.len()];
    let full_name = format!("{first} {last}");
    let email = address(&full_name, round, ORGANISATIONS[organisation].domain);
    Person { full_name, first_name: first, email, role, organisation }
}

/// "Ada Brooks" → "ada.brooks@domain", with the round number appended after the first round.
fn address(full_name: &str, round: usize, domain: &str) -> String {
    let local = full_name.to_lowercase().replace(' ', ".");
    if round == 0 {
        format!("{local}@{domain}")
    } else {
        format!("{local}{round}@{domain}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn addresses_are_unique_and_valid_at_the_largest_size() {
        let roster = Roster::for_tickets(10_000_000);
        let emails: HashSet<&str> = roster
            .people
            .iter()
            .map(|p| p.email.as_str())
            .chain(roster.staff.iter().map(|s| s.email.as_str()))
            .collect();
        assert_eq!(emails.len(), roster.people.len() + roster.staff.len());
        assert!(roster.people.len() > 4_000, "a few thousand people");
        for email in emails {
            assert_eq!(
                keydesk_core::EmailAddress::parse(email).map(|e| e.as_str().to_owned()),
                Ok(email.to_owned()),
                "{email}"
            );
        }
    }

    #[test]
    fn a_larger_seed_keeps_the_smaller_seeds_people() {
        let small = Roster::for_tickets(300);
        let large = Roster::for_tickets(1_000_000);
        assert_eq!(&large.people[..small.people.len()], &small.people[..]);
    }

    #[test]
    fn every_organisation_has_an_owner_an_admin_and_members() {
        let roster = Roster::for_tickets(300);
        for organisation in 0..ORGANISATIONS.len() {
            let owner = roster.owner_of(organisation);
            assert_eq!(roster.people[owner].role, OrgRole::Owner);
            assert!(roster.leaders_of(organisation).any(|p| roster.people[p].role == OrgRole::Admin));
            assert!(roster.people.iter().any(|p| p.organisation == organisation && p.role == OrgRole::Member));
        }
        assert_eq!(roster.staff[roster.manager()].role, StaffRole::Manager);
        assert_eq!(roster.agents().count(), 5);
    }
}
