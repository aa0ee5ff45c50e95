//! Every timeline assertion, holding and violated, over synthetic timelines.

use super::*;
use crate::scenario::model::ParsedSelector;
use crate::scenario::model::{CountBound, Kind, NeverOverlap, PodState, TimelineExpect};
use crate::timeline::{Change, TimelineEntry};
use std::collections::BTreeMap;
use std::time::Duration;

/// Builds timelines entry by entry; each entry is 100 ms after the previous one.
#[derive(Default)]
struct Builder {
    entries: Vec<TimelineEntry>,
}

impl Builder {
    fn push(
        &mut self,
        change: Change,
        name: &str,
        f: impl FnOnce(&mut TimelineEntry),
    ) -> &mut Self {
        let mut entry = TimelineEntry {
            at: Duration::from_millis(100 * (self.entries.len() as u64 + 1)),
            change,
            kind: Some(Kind::Pod),
            name: name.to_owned(),
            uid: format!("uid-{name}"),
            labels: [("app".to_owned(), "web".to_owned())].into(),
            phase: Some("Pending".to_owned()),
            ready: Some(false),
            deleting: false,
            revision: None,
            node: None,
            volume_name: None,
            detail: String::new(),
        };
        // A pod keeps the state it last had unless the change says otherwise.
        let last = self
            .entries
            .iter()
            .rev()
            .find(|e| e.name == name && e.kind == Some(Kind::Pod));
        if let Some(last) = last
            && change_keeps_state(&entry.change)
        {
            entry.phase = last.phase.clone();
            entry.ready = last.ready;
            entry.deleting = last.deleting;
            entry.labels = last.labels.clone();
            entry.uid = last.uid.clone();
        }
        f(&mut entry);
        self.entries.push(entry);
        self
    }

    fn created(&mut self, name: &str) -> &mut Self {
        self.push(Change::Added, name, |_| {})
    }

    fn created_with(&mut self, name: &str, label: (&str, &str)) -> &mut Self {
        self.push(Change::Added, name, |e| {
            e.labels.insert(label.0.to_owned(), label.1.to_owned());
        })
    }

    fn running(&mut self, name: &str) -> &mut Self {
        self.push(Change::Modified, name, |e| {
            e.phase = Some("Running".to_owned())
        })
    }

    fn ready(&mut self, name: &str) -> &mut Self {
        self.push(Change::Modified, name, |e| {
            e.phase = Some("Running".to_owned());
            e.ready = Some(true);
        })
    }

    fn unready(&mut self, name: &str) -> &mut Self {
        self.push(Change::Modified, name, |e| e.ready = Some(false))
    }

    fn deleting(&mut self, name: &str) -> &mut Self {
        self.push(Change::Modified, name, |e| {
            e.deleting = true;
            e.ready = Some(false);
        })
    }

    fn gone(&mut self, name: &str) -> &mut Self {
        self.push(Change::Deleted, name, |_| {})
    }

    fn mark(&mut self, name: &str) -> &mut Self {
        self.entries.push(TimelineEntry {
            at: Duration::from_millis(100 * (self.entries.len() as u64 + 1)),
            change: Change::Mark(name.to_owned()),
            kind: None,
            name: name.to_owned(),
            uid: String::new(),
            labels: BTreeMap::new(),
            phase: None,
            ready: None,
            deleting: false,
            revision: None,
            node: None,
            volume_name: None,
            detail: String::new(),
        });
        self
    }

    fn other_kind(&mut self, name: &str) -> &mut Self {
        self.push(Change::Added, name, |e| {
            e.kind = Some(Kind::PersistentVolumeClaim)
        })
    }
}

fn change_keeps_state(change: &Change) -> bool {
    matches!(change, Change::Modified | Change::Deleted)
}

fn pods() -> Subjects {
    Subjects {
        kind: Kind::Pod,
        name: None,
        selector: Some(ParsedSelector::parse("app=web").expect("selector")),
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| (*n).to_owned()).collect()
}

fn check(
    entries: &[TimelineEntry],
    mark: Option<&str>,
    expect: TimelineExpect,
) -> Result<String, Violation> {
    let window = Window::after_mark(entries, mark).expect("mark exists");
    evaluate(window, &pods(), &expect)
}

fn ordered_scale_up() -> Vec<TimelineEntry> {
    let mut b = Builder::default();
    b.created("web-0")
        .ready("web-0")
        .created("web-1")
        .ready("web-1")
        .created("web-2")
        .ready("web-2");
    b.entries
}

#[test]
fn created_in_order_holds_and_reports_the_swapped_pair() {
    let entries = ordered_scale_up();
    let ok = check(
        &entries,
        None,
        TimelineExpect::CreatedInOrder(names(&["web-0", "web-1", "web-2"])),
    );
    assert_eq!(ok, Ok("created in order: web-0, web-1, web-2".to_owned()));
    let err = check(
        &entries,
        None,
        TimelineExpect::CreatedInOrder(names(&["web-0", "web-2", "web-1"])),
    )
    .expect_err("out of order");
    assert_eq!(
        err.message,
        "pod/web-1 was created at +0.300s before pod/web-2 at +0.500s; expected creation order web-0, web-2, web-1"
    );
    assert_eq!(err.entries.len(), 2);
    assert!(err.render().contains("pod/web-1 ADDED"), "{}", err.render());
}

#[test]
fn created_in_order_needs_every_creation_inside_the_window() {
    let mut b = Builder::default();
    b.created("web-0").mark("scale").created("web-1");
    let err = check(
        &b.entries,
        Some("scale"),
        TimelineExpect::CreatedInOrder(names(&["web-0", "web-1"])),
    )
    .expect_err("web-0 was created before the mark");
    assert_eq!(err.message, "pod/web-0 was never created after the mark");
    assert!(Window::after_mark(&b.entries, Some("nope")).is_none());
}

#[test]
fn deleted_in_order_uses_the_start_of_deletion() {
    let mut b = Builder::default();
    b.created("web-0")
        .created("web-1")
        .created("web-2")
        .mark("down");
    b.deleting("web-2")
        .gone("web-2")
        .deleting("web-1")
        .gone("web-1");
    let ok = check(
        &b.entries,
        Some("down"),
        TimelineExpect::DeletedInOrder(names(&["web-2", "web-1"])),
    );
    assert!(ok.is_ok(), "{ok:?}");
    let err = check(
        &b.entries,
        Some("down"),
        TimelineExpect::DeletedInOrder(names(&["web-1", "web-2"])),
    )
    .expect_err("reverse order expected");
    assert!(
        err.message
            .starts_with("pod/web-2 was deleted at +0.500s before pod/web-1"),
        "{}",
        err.message
    );
    let err = check(
        &b.entries,
        Some("down"),
        TimelineExpect::DeletedInOrder(names(&["web-2", "web-0"])),
    )
    .expect_err("web-0 stays");
    assert_eq!(err.message, "pod/web-0 was never deleted after the mark");
}

#[test]
fn ready_before_next_created_holds_for_ordered_ready() {
    let entries = ordered_scale_up();
    let ok = check(
        &entries,
        None,
        TimelineExpect::ReadyBeforeNextCreated(names(&["web-0", "web-1", "web-2"])),
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn ready_before_next_created_catches_a_pod_created_too_early() {
    let mut b = Builder::default();
    b.created("web-0")
        .running("web-0")
        .created("web-1")
        .ready("web-0")
        .ready("web-1");
    let err = check(
        &b.entries,
        None,
        TimelineExpect::ReadyBeforeNextCreated(names(&["web-0", "web-1"])),
    )
    .expect_err("web-1 created while web-0 unready");
    assert_eq!(
        err.message,
        "pod/web-1 was created at +0.300s while pod/web-0 was not Ready (last seen at +0.200s: \
         phase=Running ready=false); expected each to be Ready before the next is created"
    );
    assert_eq!(err.entries.len(), 2);
    // A pod that became unready again before the next creation also violates it.
    let mut b = Builder::default();
    b.created("web-0")
        .ready("web-0")
        .unready("web-0")
        .created("web-1");
    assert!(
        check(
            &b.entries,
            None,
            TimelineExpect::ReadyBeforeNextCreated(names(&["web-0", "web-1"]))
        )
        .is_err()
    );
    // The previous pod may come from before the mark: its state is known from the replay.
    let mut b = Builder::default();
    b.created("web-0")
        .ready("web-0")
        .mark("up")
        .created("web-1")
        .ready("web-1")
        .created("web-2");
    let ok = check(
        &b.entries,
        Some("up"),
        TimelineExpect::ReadyBeforeNextCreated(names(&["web-0", "web-1", "web-2"])),
    );
    assert!(ok.is_ok(), "{ok:?}");
    let err = check(
        &b.entries,
        Some("up"),
        TimelineExpect::ReadyBeforeNextCreated(names(&["web-2", "web-3"])),
    )
    .expect_err("web-3 never created");
    assert_eq!(err.message, "pod/web-3 was never created after the mark");
}

#[test]
fn gone_before_next_deleted_holds_one_at_a_time() {
    let mut b = Builder::default();
    b.created("web-0")
        .created("web-1")
        .created("web-2")
        .mark("down");
    b.deleting("web-2")
        .gone("web-2")
        .deleting("web-1")
        .gone("web-1");
    let ok = check(
        &b.entries,
        Some("down"),
        TimelineExpect::GoneBeforeNextDeleted(names(&["web-2", "web-1"])),
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn gone_before_next_deleted_catches_overlapping_deletions() {
    let mut b = Builder::default();
    b.created("web-1").created("web-2").mark("down");
    b.deleting("web-2")
        .deleting("web-1")
        .gone("web-2")
        .gone("web-1");
    let err = check(
        &b.entries,
        Some("down"),
        TimelineExpect::GoneBeforeNextDeleted(names(&["web-2", "web-1"])),
    )
    .expect_err("overlap");
    assert_eq!(
        err.message,
        "deletion of pod/web-1 started at +0.500s while pod/web-2 was still there (it was gone only \
         at +0.600s); expected one at a time"
    );
    assert_eq!(err.entries.len(), 3);
    let err = check(
        &b.entries,
        Some("down"),
        TimelineExpect::GoneBeforeNextDeleted(names(&["web-9", "web-1"])),
    )
    .expect_err("unknown pod");
    assert_eq!(
        err.message,
        "deletion of pod/web-9 never started after the mark"
    );
}

#[test]
fn gone_before_next_deleted_follows_instances_through_a_rolling_update() {
    // web-2 is replaced (same name, new uid) before web-1's deletion starts.
    let mut b = Builder::default();
    b.created("web-1").created("web-2").mark("update");
    b.deleting("web-2").gone("web-2");
    b.push(Change::Added, "web-2", |e| {
        e.uid = "uid-web-2-new".to_owned()
    });
    b.deleting("web-1").gone("web-1");
    let both = || TimelineExpect::GoneBeforeNextDeleted(names(&["web-2", "web-1"]));
    let ok = check(&b.entries, Some("update"), both());
    assert!(ok.is_ok(), "{ok:?}");
    // The replacement existing is fine; the old instance still terminating is not.
    let mut b = Builder::default();
    b.created("web-1").created("web-2").mark("update");
    b.deleting("web-2")
        .deleting("web-1")
        .gone("web-2")
        .gone("web-1");
    assert!(check(&b.entries, Some("update"), both()).is_err());
}

#[test]
fn created_without_waiting_holds_for_parallel_and_fails_for_ordered() {
    let mut b = Builder::default();
    b.created("web-0")
        .created("web-1")
        .created("web-2")
        .ready("web-1")
        .ready("web-0")
        .ready("web-2");
    let all = names(&["web-0", "web-1", "web-2"]);
    assert_eq!(
        check(
            &b.entries,
            None,
            TimelineExpect::CreatedWithoutWaiting(all.clone())
        ),
        Ok("all 3 created before any was Ready".to_owned())
    );
    let err = check(
        &ordered_scale_up(),
        None,
        TimelineExpect::CreatedWithoutWaiting(all),
    )
    .expect_err("ordered waits");
    assert_eq!(
        err.message,
        "pod/web-0 became Ready at +0.200s before pod/web-2 was created at +0.500s; expected all to \
         be created without waiting for readiness"
    );
}

#[test]
fn at_most_counts_existing_pods_and_ignores_terminating_ones() {
    let mut b = Builder::default();
    b.created("a").created("b").created("c").mark("roll");
    b.created("d")
        .deleting("a")
        .gone("a")
        .created("e")
        .deleting("b")
        .gone("b");
    let bound = |count| {
        TimelineExpect::AtMost(CountBound {
            count,
            state: PodState::Exists,
        })
    };
    assert_eq!(
        check(&b.entries, Some("roll"), bound(4)),
        Ok("at most 4 existing (peak 4)".to_owned())
    );
    let err = check(&b.entries, Some("roll"), bound(3)).expect_err("surge to 4");
    assert!(
        err.message
            .starts_with("4 pods existing at +0.500s (after +0.500s pod/d ADDED"),
        "{}",
        err.message
    );
    assert!(
        err.message.ends_with(": a, b, c, d; expected at most 3"),
        "{}",
        err.message
    );
    assert_eq!(err.entries.len(), 4, "the cause, then the other members");
    // Already too many at the start of the window.
    let err = check(&b.entries, Some("roll"), bound(2)).expect_err("3 at start");
    assert!(
        err.message.contains("at the start of the window"),
        "{}",
        err.message
    );
}

#[test]
fn at_most_ready_and_running() {
    let entries = ordered_scale_up();
    let ready = |count| {
        TimelineExpect::AtMost(CountBound {
            count,
            state: PodState::Ready,
        })
    };
    assert!(check(&entries, None, ready(3)).is_ok());
    assert!(check(&entries, None, ready(2)).is_err());
    let mut b = Builder::default();
    b.created("a")
        .running("a")
        .deleting("a")
        .created("b")
        .running("b");
    let running = TimelineExpect::AtMost(CountBound {
        count: 1,
        state: PodState::Running,
    });
    let err = check(&b.entries, None, running).expect_err("a still runs while terminating");
    assert!(err.message.contains("a, b"), "{}", err.message);
}

#[test]
fn at_least_holds_once_reached_and_catches_a_dip() {
    let mut b = Builder::default();
    b.created("a")
        .ready("a")
        .created("b")
        .ready("b")
        .created("c")
        .ready("c")
        .mark("roll");
    b.created("d")
        .ready("d")
        .deleting("a")
        .gone("a")
        .created("e")
        .deleting("b")
        .ready("e");
    let bound = |count| {
        TimelineExpect::AtLeast(CountBound {
            count,
            state: PodState::Ready,
        })
    };
    assert_eq!(
        check(&b.entries, Some("roll"), bound(2)),
        Ok("at least 2 ready once reached (lowest 2)".to_owned())
    );
    let err = check(&b.entries, Some("roll"), bound(3)).expect_err("dips to 2");
    assert!(
        err.message.starts_with("only 2 pods ready at"),
        "{}",
        err.message
    );
    assert!(
        err.message.ends_with("expected at least 3"),
        "{}",
        err.message
    );
}

#[test]
fn at_least_that_is_never_reached_fails() {
    let entries = ordered_scale_up();
    let err = check(
        &entries,
        None,
        TimelineExpect::AtLeast(CountBound {
            count: 5,
            state: PodState::Ready,
        }),
    )
    .expect_err("only 3 pods");
    assert!(
        err.message.starts_with("never 5 pods ready at once"),
        "{}",
        err.message
    );
    assert!(err.message.contains("(at most 3)"), "{}", err.message);
}

#[test]
fn never_overlap_for_recreate_and_rolling() {
    let overlap = TimelineExpect::NeverOverlap(NeverOverlap {
        label: "pod-template-hash".to_owned(),
        state: PodState::Running,
    });
    let mut recreate = Builder::default();
    recreate
        .created_with("old-1", ("pod-template-hash", "v1"))
        .running("old-1")
        .mark("update")
        .deleting("old-1")
        .gone("old-1")
        .created_with("new-1", ("pod-template-hash", "v2"))
        .running("new-1");
    assert_eq!(
        check(&recreate.entries, Some("update"), overlap.clone()),
        Ok("never overlapped (2 groups by `pod-template-hash` seen)".to_owned())
    );
    let mut rolling = Builder::default();
    rolling
        .created_with("old-1", ("pod-template-hash", "v1"))
        .running("old-1")
        .mark("update")
        .created_with("new-1", ("pod-template-hash", "v2"))
        .running("new-1")
        .deleting("old-1")
        .gone("old-1");
    let err = check(&rolling.entries, Some("update"), overlap).expect_err("overlap");
    assert!(
        err.message
            .ends_with("pod-template-hash=v1: old-1; pod-template-hash=v2: new-1"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .starts_with("pods running with different `pod-template-hash` together at +0.500s"),
        "{}",
        err.message
    );
}

#[test]
fn subjects_filter_by_kind_name_and_selector() {
    let mut b = Builder::default();
    b.created("a")
        .other_kind("data-a")
        .created_with("db", ("app", "db"));
    let entries = &b.entries;
    let window = Window::after_mark(entries, None).expect("whole timeline");
    let exists = TimelineExpect::AtMost(CountBound {
        count: 1,
        state: PodState::Exists,
    });
    // The selector keeps `db` out (its app label is overwritten to db); the PVC is another kind.
    assert!(evaluate(window, &pods(), &exists).is_ok());
    let every_pod = Subjects {
        kind: Kind::Pod,
        name: None,
        selector: None,
    };
    assert!(evaluate(window, &every_pod, &exists).is_err());
    let one = Subjects {
        kind: Kind::Pod,
        name: Some("db".to_owned()),
        selector: None,
    };
    assert!(evaluate(window, &one, &exists).is_ok());
}

#[test]
fn an_empty_window_is_one_moment() {
    let mut b = Builder::default();
    b.created("a").created("b").mark("end");
    let bound = TimelineExpect::AtMost(CountBound {
        count: 1,
        state: PodState::Exists,
    });
    let err = check(&b.entries, Some("end"), bound).expect_err("two exist at the end");
    assert!(
        err.message.contains("at the start of the window"),
        "{}",
        err.message
    );
}

#[test]
fn descriptions_name_the_assertion() {
    assert_eq!(
        describe(&TimelineExpect::ReadyBeforeNextCreated(names(&[
            "web-0", "web-1"
        ]))),
        "each Ready before the next is created: web-0 -> web-1"
    );
    assert_eq!(
        describe(&TimelineExpect::AtMost(CountBound {
            count: 4,
            state: PodState::Exists
        })),
        "at most 4 existing at any moment"
    );
}
