//! The lifecycle model (draft-fabini-smart-malware-lifecycle-00, Figure 1) and the
//! evidence detectors emit.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A lifecycle state, named as in the draft (lower case in reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Nothing observed yet.
    Unknown,
    /// ACCESS: (temporary) access to a device — here: a host reached by a propagating
    /// host that then starts the same behaviour.
    Access,
    /// INFECTION: persistent installation (host domain; inferred, rarely visible).
    Infection,
    /// DISCOVERY: finding victims (blind or targeted scans, sweeps).
    Discovery,
    /// PROPAGATION: spreading to discovered victims (lateral connections, brute force).
    Propagation,
    /// CONTROL: command and control, updates, modules (beacons, DNS tunnels, long
    /// connections, large inbound transfers from a control peer).
    Control,
    /// TRIGGER: coordination of instances (many hosts starting the same behaviour).
    Trigger,
    /// ATTACK: the damaging function (exfiltration volume, denial of service).
    Attack,
    /// CLEANUP: the host went quiet after control or attack (dormant or removed: the
    /// network cannot tell which).
    Cleanup,
}

impl State {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Access => "access",
            State::Infection => "infection",
            State::Discovery => "discovery",
            State::Propagation => "propagation",
            State::Control => "control",
            State::Trigger => "trigger",
            State::Attack => "attack",
            State::Cleanup => "cleanup",
        }
    }

    /// Severity for ordering hosts (higher first).
    pub fn severity(self) -> u8 {
        match self {
            State::Attack => 8,
            State::Control => 7,
            State::Propagation => 6,
            State::Trigger => 5,
            State::Cleanup => 4,
            State::Discovery => 3,
            State::Infection => 2,
            State::Access => 1,
            State::Unknown => 0,
        }
    }

    /// MITRE ATT&CK tactic the state corresponds to (for reports).
    pub fn attack_tactic(self) -> &'static str {
        match self {
            State::Access => "TA0001 Initial Access",
            State::Infection => "TA0003 Persistence",
            State::Discovery => "TA0007 Discovery",
            State::Propagation => "TA0008 Lateral Movement",
            State::Control => "TA0011 Command and Control",
            State::Trigger => "T1480 Execution Guardrails",
            State::Attack => "TA0040 Impact / TA0010 Exfiltration",
            State::Cleanup => "T1070 Indicator Removal",
            State::Unknown => "",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the draft's Figure 1 has an arrow `from → to` (our reading of the arrowheads),
/// plus CONTROL → CLEANUP for a controlled host that goes quiet.
pub fn draft_edge(from: State, to: State) -> bool {
    use State::*;
    matches!(
        (from, to),
        (Unknown, _)
            | (Access, Infection)
            | (Infection, Access)
            | (Access, Discovery)
            | (Discovery, Propagation)
            | (Propagation, Access)
            | (Access, Control)
            | (Control, Access)
            | (Access, Attack)
            | (Trigger, Attack)
            | (Attack, Cleanup)
            | (Trigger, Cleanup)
            | (Control, Cleanup)
    )
}

/// The unobserved states a change `from → to` implies: none for a drawn edge; ACCESS (the
/// hub) when `from → ACCESS → to` is drawn; else the draft's path through ACCESS and
/// DISCOVERY (e.g. propagation without an observed scan implies passive or hit-list
/// discovery).
pub fn implied_states(from: State, to: State) -> Vec<State> {
    use State::*;
    if draft_edge(from, to) || from == to {
        return Vec::new();
    }
    if draft_edge(from, Access) && draft_edge(Access, to) {
        return vec![Access];
    }
    if to == Propagation {
        return if from == Access {
            vec![Discovery]
        } else {
            vec![Access, Discovery]
        };
    }
    if draft_edge(Access, to) {
        return vec![Access];
    }
    Vec::new()
}

/// A time interval, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// First observation.
    pub start: f64,
    /// Last observation.
    pub end: f64,
}

/// Why a detector thinks a host is in a state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The acting host.
    pub host: String,
    /// The other side: an address, a name (SNI / Host / registered domain), or a port set.
    pub peer: Option<String>,
    /// The state this supports.
    pub state: State,
    /// Detector and variant: `horizontal_scan`, `vertical_scan`, `icmp_sweep`,
    /// `arp_sweep`, `lateral_connection`, `brute_force`, `new_victim`, `beacon`,
    /// `long_connection`, `dns_tunnel`, `nxdomain_burst`, `update_download`,
    /// `synchronized_start`, `exfiltration`, `dos`, `went_quiet`.
    pub kind: String,
    /// When.
    pub window: Window,
    /// Confidence, 0..1.
    pub score: f64,
    /// Some flow uids behind it (at most 20).
    pub flows: Vec<String>,
    /// How many flows are behind it.
    pub flow_count: u64,
    /// One sentence for people.
    pub reason: String,
    /// ATT&CK technique(s).
    pub technique: String,
    /// Detector-specific figures.
    pub details: serde_json::Value,
}

/// One state change of a host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// Previous state.
    pub from: State,
    /// New state.
    pub to: State,
    /// When.
    pub at: f64,
    /// The draft draws this arrow.
    pub draft_edge: bool,
    /// States the change implies but the network could not see.
    pub implied: Vec<State>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges() {
        assert!(draft_edge(State::Discovery, State::Propagation));
        assert!(!draft_edge(State::Discovery, State::Control));
        assert_eq!(
            implied_states(State::Control, State::Discovery),
            vec![State::Access]
        );
        assert_eq!(
            implied_states(State::Unknown, State::Propagation),
            Vec::<State>::new()
        );
        assert_eq!(
            implied_states(State::Control, State::Propagation),
            vec![State::Access, State::Discovery]
        );
        assert_eq!(
            serde_json::to_string(&State::Control).unwrap(),
            "\"control\""
        );
        assert!(State::Attack.severity() > State::Discovery.severity());
    }
}
