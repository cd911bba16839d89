//! Tests of the revision graph: its checks, its queries and its plans.

use std::path::Path;

use super::*;

/// The id of test revision `n`.
fn id(n: u32) -> String {
    format!("202601010000{n:02}")
}

/// Revision `n` with these parents.
fn rev(n: u32, parents: &[u32]) -> Revision {
    Revision::new(id(n), &format!("rev {n}"))
        .with_parents(parents.iter().map(|&p| id(p)))
        .with_up(format!("SELECT {n};"))
}

fn graph(revisions: Vec<Revision>) -> Graph {
    Graph::new(revisions).expect("a valid graph")
}

fn ids(revisions: &[&Revision]) -> Vec<String> {
    revisions.iter().map(|r| r.id.clone()).collect()
}

fn nums(ns: &[u32]) -> Vec<String> {
    ns.iter().map(|&n| id(n)).collect()
}

fn applied(ns: &[u32]) -> BTreeSet<String> {
    ns.iter().map(|&n| id(n)).collect()
}

/// The path and message of a `Graph` error.
fn graph_err(revisions: Vec<Revision>) -> (std::path::PathBuf, String) {
    match Graph::new(revisions) {
        Err(MigrateError::Graph { path, message }) => (path, message),
        other => panic!("expected a Graph error, got {other:?}"),
    }
}

/// 1 <- 2 <- 3
fn linear() -> Graph {
    graph(vec![rev(3, &[2]), rev(1, &[]), rev(2, &[1])])
}

/// 1 <- 2 <- 3, and 2 <- 4 (a branch at 2: heads 3 and 4)
fn branched() -> Graph {
    graph(vec![rev(1, &[]), rev(2, &[1]), rev(3, &[2]), rev(4, &[2])])
}

/// `branched`, merged by 5 (parents 3 and 4), then 6.
fn merged() -> Graph {
    graph(vec![
        rev(1, &[]),
        rev(2, &[1]),
        rev(3, &[2]),
        rev(4, &[2]),
        rev(5, &[3, 4]),
        rev(6, &[5]),
    ])
}

#[test]
fn linear_history_heads_bases() {
    let g = linear();
    assert_eq!(g.len(), 3);
    assert_eq!(ids(&g.history()), nums(&[1, 2, 3]));
    assert_eq!(ids(&g.heads()), nums(&[3]));
    assert_eq!(ids(&g.bases()), nums(&[1]));
    assert!(g.branches().is_empty());
    assert_eq!(ids(&g.children(&id(1)).expect("known")), nums(&[2]));
}

#[test]
fn get_by_id_and_unique_prefix() {
    let g = graph(vec![rev(1, &[]), rev(2, &[1]), rev(12, &[2])]);
    assert_eq!(g.get(&id(2)).expect("exact").id, id(2));
    // "2026010100001" is the prefix of 20260101000012 only.
    assert_eq!(g.get("2026010100001").expect("unique prefix").id, id(12));
    for bad in ["2026010100000", "2026", "", "99", "20260101000099"] {
        match g.get(bad) {
            Err(MigrateError::UnknownRevision(s)) => assert_eq!(s, bad),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(g.contains(&id(12)));
    assert!(!g.contains("2026"));
}

#[test]
fn branch_has_two_heads() {
    let g = branched();
    assert_eq!(ids(&g.heads()), nums(&[3, 4]));
    assert_eq!(ids(&g.branches()), nums(&[2]));
    assert_eq!(ids(&g.history()), nums(&[1, 2, 3, 4]));
    // `head` is ambiguous, and the error names both heads.
    let err = g
        .upgrade_plan(&applied(&[]), &Target::Head)
        .expect_err("two heads");
    match &err {
        MigrateError::MultipleHeads { heads } => assert_eq!(heads, &nums(&[3, 4])),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "the graph has 2 heads (20260101000003, 20260101000004): name one, or use `heads`, or merge them"
    );
    assert_eq!(
        ids(&g
            .upgrade_plan(&applied(&[]), &Target::Heads)
            .expect("heads")),
        nums(&[1, 2, 3, 4])
    );
    // Upgrading to one head leaves the other branch alone.
    assert_eq!(
        ids(&g
            .upgrade_plan(&applied(&[1]), &Target::Id(id(4)))
            .expect("to 4")),
        nums(&[2, 4])
    );
}

#[test]
fn merge_joins_the_heads() {
    let g = merged();
    assert_eq!(ids(&g.heads()), nums(&[6]));
    assert_eq!(ids(&g.bases()), nums(&[1]));
    assert_eq!(ids(&g.branches()), nums(&[2]));
    assert!(g.get(&id(5)).expect("merge").is_merge());
    assert_eq!(ids(&g.history()), nums(&[1, 2, 3, 4, 5, 6]));
    assert_eq!(
        ids(&g
            .upgrade_plan(&applied(&[1, 2, 3]), &Target::Head)
            .expect("head")),
        nums(&[4, 5, 6])
    );
    // Both parents of the merge count for `current`.
    assert_eq!(
        ids(&g.current_heads(&applied(&[1, 2, 3, 4]))),
        nums(&[3, 4])
    );
    assert_eq!(
        ids(&g.current_heads(&applied(&[1, 2, 3, 4, 5]))),
        nums(&[5])
    );
    assert!(g.current_heads(&applied(&[])).is_empty());
}

#[test]
fn history_breaks_ties_by_id() {
    // Two roots and a branch; ids out of creation order on purpose.
    let g = graph(vec![rev(5, &[]), rev(1, &[]), rev(2, &[5]), rev(3, &[1])]);
    assert_eq!(ids(&g.history()), nums(&[1, 3, 5, 2]));
    assert_eq!(ids(&g.bases()), nums(&[1, 5]));
    assert_eq!(ids(&g.heads()), nums(&[2, 3]));
}

/// Two branches from 1: 2 <- 3 and 4 <- 5, where 5 depends_on 3.
fn cross() -> Graph {
    graph(vec![
        rev(1, &[]),
        rev(2, &[1]),
        rev(3, &[2]),
        rev(4, &[1]),
        rev(5, &[4]).with_depends_on([id(3)]),
    ])
}

#[test]
fn depends_on_across_branches() {
    let g = cross();
    // depends_on does not make 3 a parent: both are heads, 1 is the only branch point.
    assert_eq!(ids(&g.heads()), nums(&[3, 5]));
    assert_eq!(ids(&g.branches()), nums(&[1]));
    // 5 comes after 3 in history, although 4 < 3 would not force it.
    assert_eq!(ids(&g.history()), nums(&[1, 2, 3, 4, 5]));
    // Upgrading to 5 pulls in the other branch up to 3.
    assert_eq!(
        ids(&g
            .upgrade_plan(&applied(&[1, 4]), &Target::Id(id(5)))
            .expect("to 5")),
        nums(&[2, 3, 5])
    );
    // Downgrading to 2 reverts 3 and what depends on it (5), not 4.
    assert_eq!(
        ids(&g
            .downgrade_plan(&applied(&[1, 2, 3, 4, 5]), &Target::Id(id(2)))
            .expect("to 2")),
        nums(&[5, 3])
    );
}

#[test]
fn upgrade_plans() {
    let g = linear();
    let none = applied(&[]);
    assert_eq!(
        ids(&g.upgrade_plan(&none, &Target::Head).expect("head")),
        nums(&[1, 2, 3])
    );
    assert_eq!(
        ids(&g.upgrade_plan(&applied(&[1]), &Target::Head).expect("head")),
        nums(&[2, 3])
    );
    assert!(
        g.upgrade_plan(&applied(&[1, 2, 3]), &Target::Head)
            .expect("at head")
            .is_empty()
    );
    assert!(
        g.upgrade_plan(&none, &Target::Base)
            .expect("base")
            .is_empty()
    );
    // A prefix of several ids names none.
    let err = g
        .upgrade_plan(&none, &Target::Id("2026010100000".into()))
        .expect_err("ambiguous");
    assert!(matches!(&err, MigrateError::UnknownRevision(p) if p == "2026010100000"));
    assert_eq!(
        ids(&g.upgrade_plan(&none, &Target::Id(id(2))).expect("to 2")),
        nums(&[1, 2])
    );
    assert_eq!(
        ids(&g
            .upgrade_plan(&applied(&[1]), &Target::Relative(1))
            .expect("+1")),
        nums(&[2])
    );
    assert_eq!(
        ids(&g.upgrade_plan(&none, &Target::Relative(2)).expect("+2")),
        nums(&[1, 2])
    );
    assert!(
        g.upgrade_plan(&none, &Target::Relative(0))
            .expect("+0")
            .is_empty()
    );
    let err = g
        .upgrade_plan(&applied(&[1, 2]), &Target::Relative(2))
        .expect_err("too far");
    assert_eq!(
        err.to_string(),
        "target \"+2\": only 1 revision(s) are not applied"
    );
    let err = g
        .upgrade_plan(&none, &Target::Relative(-1))
        .expect_err("negative");
    assert!(matches!(err, MigrateError::BadTarget { .. }), "{err:?}");
    let err = g
        .upgrade_plan(&none, &Target::Id("31".into()))
        .expect_err("unknown id");
    assert_eq!(err.to_string(), "unknown revision \"31\"");
}

#[test]
fn relative_upgrade_follows_history_across_branches() {
    let g = branched();
    assert_eq!(
        ids(&g
            .upgrade_plan(&applied(&[1, 2]), &Target::Relative(2))
            .expect("+2")),
        nums(&[3, 4])
    );
}

#[test]
fn applied_revisions_unknown_to_the_graph_are_reported() {
    let g = linear();
    let mut set = applied(&[1]);
    set.insert("20990101000000".into());
    let err = g
        .upgrade_plan(&set, &Target::Head)
        .expect_err("unknown applied");
    assert!(matches!(&err, MigrateError::UnknownApplied(id) if id == "20990101000000"));
    let err = g
        .downgrade_plan(&set, &Target::Base)
        .expect_err("unknown applied");
    assert!(matches!(&err, MigrateError::UnknownApplied(id) if id == "20990101000000"));
    assert_eq!(ids(&g.current_heads(&set)), nums(&[1]));
}

#[test]
fn downgrade_plans() {
    let g = merged();
    let all = applied(&[1, 2, 3, 4, 5, 6]);
    assert_eq!(
        ids(&g.downgrade_plan(&all, &Target::Base).expect("base")),
        nums(&[6, 5, 4, 3, 2, 1])
    );
    assert_eq!(
        ids(&g.downgrade_plan(&all, &Target::Id(id(3))).expect("to 3")),
        nums(&[6, 5])
    );
    assert_eq!(
        ids(&g.downgrade_plan(&all, &Target::Id(id(2))).expect("to 2")),
        nums(&[6, 5, 4, 3])
    );
    // Only what is applied is reverted.
    assert_eq!(
        ids(&g
            .downgrade_plan(&applied(&[1, 2, 4]), &Target::Id(id(1)))
            .expect("to 1")),
        nums(&[4, 2])
    );
    assert_eq!(
        ids(&g.downgrade_plan(&all, &Target::Relative(-2)).expect("-2")),
        nums(&[6, 5])
    );
    assert!(
        g.downgrade_plan(&all, &Target::Head)
            .expect("head")
            .is_empty()
    );
    assert!(
        g.downgrade_plan(&all, &Target::Heads)
            .expect("heads")
            .is_empty()
    );
    let err = g
        .downgrade_plan(&applied(&[1]), &Target::Relative(-2))
        .expect_err("too far");
    assert_eq!(
        err.to_string(),
        "target \"-2\": only 1 revision(s) are applied"
    );
    let err = g
        .downgrade_plan(&all, &Target::Relative(1))
        .expect_err("positive");
    assert!(matches!(err, MigrateError::BadTarget { .. }), "{err:?}");
    let err = branched()
        .downgrade_plan(&applied(&[1]), &Target::Head)
        .expect_err("two heads");
    assert!(matches!(err, MigrateError::MultipleHeads { .. }), "{err:?}");
}

#[test]
fn targets_parse_and_display() {
    let cases = [
        ("head", Target::Head),
        ("heads", Target::Heads),
        ("base", Target::Base),
        ("+3", Target::Relative(3)),
        ("-2", Target::Relative(-2)),
        ("20260101", Target::Id("20260101".into())),
        (" 20260101000001 ", Target::Id(id(1))),
    ];
    for (text, target) in cases {
        assert_eq!(Target::parse(text).expect(text), target);
        assert_eq!(text.parse::<Target>().expect(text), target);
        assert_eq!(target.to_string(), text.trim());
    }
    for bad in [
        "",
        "+",
        "-x",
        "HEAD",
        "abc",
        "202601010000011",
        "+99999999999999999999",
        "1+1",
    ] {
        match Target::parse(bad) {
            Err(MigrateError::UnknownRevision(s)) => assert_eq!(s, bad.trim()),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}

#[test]
fn missing_parent_names_the_file() {
    let (path, message) = graph_err(vec![rev(1, &[]), rev(3, &[2])]);
    assert_eq!(path, Path::new("20260101000003_rev_3/up.sql"));
    assert_eq!(
        message,
        "revision 20260101000003: parent 20260101000002 is not in the migrations directory"
    );
}

#[test]
fn missing_depends_on_names_the_file() {
    let (path, message) = graph_err(vec![rev(1, &[]), rev(2, &[1]).with_depends_on([id(9)])]);
    assert_eq!(path, Path::new("20260101000002_rev_2/up.sql"));
    assert_eq!(
        message,
        "revision 20260101000002: depends_on 20260101000009 is not in the migrations directory"
    );
}

#[test]
fn duplicate_id_names_both_files() {
    let mut other = rev(2, &[1]);
    other.source = "migrations/20260101000002_other/up.sql".into();
    let (path, message) = graph_err(vec![rev(1, &[]), other, rev(2, &[1])]);
    assert_eq!(path, Path::new("migrations/20260101000002_other/up.sql"));
    assert_eq!(
        message,
        "duplicate revision id 20260101000002: 20260101000002_rev_2/up.sql has it too"
    );
}

#[test]
fn cycle_names_a_file_on_it() {
    // 1 <- 2 <- 3 <- 2 (a cycle 2 -> 3 -> 2) and 4 hanging off the cycle.
    let (path, message) = graph_err(vec![
        rev(1, &[]),
        rev(2, &[1, 3]),
        rev(3, &[2]),
        rev(4, &[3]),
    ]);
    assert_eq!(path, Path::new("20260101000002_rev_2/up.sql"));
    assert_eq!(
        message,
        "revision 20260101000002 is in a cycle of parents/depends_on: \
         20260101000002 -> 20260101000003 -> 20260101000002 (each needs the next applied first)"
    );
    // A revision that is its own parent.
    let (path, message) = graph_err(vec![rev(1, &[1])]);
    assert_eq!(path, Path::new("20260101000001_rev_1/up.sql"));
    assert!(
        message.contains("20260101000001 -> 20260101000001"),
        "{message}"
    );
    // A cycle made only through depends_on.
    let (_, message) = graph_err(vec![
        rev(1, &[]),
        rev(2, &[1]).with_depends_on([id(3)]),
        rev(3, &[1]).with_depends_on([id(2)]),
    ]);
    assert!(
        message.contains("20260101000002 -> 20260101000003 -> 20260101000002"),
        "{message}"
    );
}

#[test]
fn empty_graph() {
    let g = graph(Vec::new());
    assert!(g.is_empty());
    assert!(g.heads().is_empty());
    assert!(
        g.upgrade_plan(&BTreeSet::new(), &Target::Head)
            .expect("nothing")
            .is_empty()
    );
    assert!(
        g.downgrade_plan(&BTreeSet::new(), &Target::Base)
            .expect("nothing")
            .is_empty()
    );
}
