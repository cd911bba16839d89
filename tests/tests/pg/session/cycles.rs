//! Flush plan: cycles.

use super::*;

#[tokio::test]
async fn two_rows_pointing_at_each_other_use_a_post_update() {
    let t = setup().await;
    let mut s = t.session();
    let a = s.add(Node {
        name: "a".into(),
        ..Node::default()
    });
    let b = s.add(Node {
        name: "b".into(),
        ..Node::default()
    });
    s.set_related(&a, Node::partner, vec![b.clone()]).unwrap();
    s.set_related(&b, Node::partner, vec![a.clone()]).unwrap();
    let before = t.statement_count();
    s.commit().await.unwrap();
    // BEGIN, INSERT one, INSERT the other, UPDATE (post-update), COMMIT.
    assert_eq!(t.statement_count() - before, 5);
    let (aid, bid) = (a.read().id, b.read().id);
    assert_eq!(a.read().partner_id, Some(bid));
    assert_eq!(b.read().partner_id, Some(aid));
    assert_eq!(
        count(&t, "SELECT count(*) FROM c_node x JOIN c_node y ON x.partner_id = y.id AND y.partner_id = x.id").await,
        2
    );
}

#[tokio::test]
async fn hundreds_of_cycles_in_one_flush_are_all_closed() {
    let t = setup().await;
    let mut s = t.session();
    let pairs: Vec<_> = (0..500)
        .map(|i| {
            let a = s.add(Node {
                name: format!("a{i}"),
                ..Node::default()
            });
            let b = s.add(Node {
                name: format!("b{i}"),
                ..Node::default()
            });
            s.set_related(&a, Node::partner, vec![b.clone()]).unwrap();
            s.set_related(&b, Node::partner, vec![a.clone()]).unwrap();
            (a, b)
        })
        .collect();
    s.commit().await.unwrap();
    for (a, b) in &pairs {
        let (aid, bid) = (a.read().id, b.read().id);
        assert_eq!(a.read().partner_id, Some(bid));
        assert_eq!(b.read().partner_id, Some(aid));
    }
    assert_eq!(
        count(&t, "SELECT count(*) FROM c_node x JOIN c_node y ON x.partner_id = y.id AND y.partner_id = x.id AND substr(x.name, 2) = substr(y.name, 2)").await,
        1000
    );
}

/// Rows pointing at each other, deleted together: one `DELETE` for both (PostgreSQL checks
/// the foreign key at the statement's end), not one each in an order that leaves the second
/// pointing at the first.
#[tokio::test]
async fn two_rows_pointing_at_each_other_are_deleted_in_one_statement() {
    let t = setup().await;
    let mut s = t.session();
    let a = s.add(Node {
        name: "a".into(),
        ..Node::default()
    });
    let b = s.add(Node {
        name: "b".into(),
        ..Node::default()
    });
    let c = s.add(Node {
        name: "c".into(),
        ..Node::default()
    });
    s.set_related(&a, Node::partner, vec![b.clone()]).unwrap();
    s.set_related(&b, Node::partner, vec![a.clone()]).unwrap();
    // c points into the cycle: it goes first.
    s.set_related(&c, Node::partner, vec![a.clone()]).unwrap();
    s.commit().await.unwrap();
    s.delete(&a).unwrap();
    s.delete(&b).unwrap();
    s.delete(&c).unwrap();
    let before = t.statement_count();
    s.commit().await.unwrap();
    // BEGIN, DELETE c, DELETE a and b, COMMIT.
    assert_eq!(t.statement_count() - before, 4);
    assert_eq!(count(&t, "SELECT count(*) FROM c_node").await, 0);

    // A ring of three: one DELETE too.
    let ring: Vec<_> = ["x", "y", "z"]
        .iter()
        .map(|n| {
            s.add(Node {
                name: (*n).into(),
                ..Node::default()
            })
        })
        .collect();
    for i in 0..3 {
        s.set_related(&ring[i], Node::partner, vec![ring[(i + 1) % 3].clone()])
            .unwrap();
    }
    s.commit().await.unwrap();
    for n in &ring {
        s.delete(n).unwrap();
    }
    let before = t.statement_count();
    s.commit().await.unwrap();
    assert_eq!(t.statement_count() - before, 3);
    assert_eq!(count(&t, "SELECT count(*) FROM c_node").await, 0);
}

/// A team and its captain, a player of the team: two tables whose foreign keys point at each
/// other (`create_all` refuses the cycle, so `cross_tables` creates them in two steps).
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "k_team")]
pub struct Team {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[model(references = "k_player.id")]
    pub captain_id: Option<i64>,
    #[relationship(belongs_to = Player, foreign_key = "captain_id")]
    pub captain: Related<Option<Player>>,
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "k_player")]
pub struct Player {
    #[model(primary_key, generated)]
    pub id: i64,
    pub name: String,
    #[model(references = "k_team.id")]
    pub team_id: Option<i64>,
    #[relationship(belongs_to = Team, foreign_key = "team_id")]
    pub team: Related<Option<Team>>,
}

/// The two tables, their foreign keys added once both exist.
async fn cross_tables() -> TestDatabase {
    let t = setup().await;
    t.batch_execute(
        "CREATE TABLE k_team (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, captain_id BIGINT);
         CREATE TABLE k_player (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL,
             team_id BIGINT REFERENCES k_team (id));
         ALTER TABLE k_team ADD FOREIGN KEY (captain_id) REFERENCES k_player (id);",
    )
    .await
    .unwrap();
    t
}

/// `n` teams, each with a captain who plays for it, committed.
async fn teams_with_captains(t: &TestDatabase, n: usize) {
    let mut s = t.session();
    for i in 0..n {
        let team = s.add(Team {
            name: format!("t{i}"),
            ..Team::default()
        });
        let captain = s.add(Player {
            name: format!("p{i}"),
            ..Player::default()
        });
        s.set_related(&team, Team::captain, vec![captain.clone()])
            .unwrap();
        s.set_related(&captain, Player::team, vec![team.clone()])
            .unwrap();
    }
    s.commit().await.unwrap();
    assert_eq!(
        count(t, "SELECT count(*) FROM k_team JOIN k_player ON captain_id = k_player.id AND team_id = k_team.id").await,
        n as i64
    );
}

/// Rows of two tables pointing at each other, deleted together: the flush breaks the cycle
/// (one foreign key set to `NULL` first, as SQLAlchemy's post-update), then deletes each table's
/// rows, the rows pointing at the other's first.
#[tokio::test]
async fn rows_of_two_tables_pointing_at_each_other_are_deleted_together() {
    let t = cross_tables().await;
    teams_with_captains(&t, 3).await;
    // Loaded with their relationships: the session knows the links.
    let mut s = t.session();
    let teams = s
        .all(select::<Team>().load(Team::captain.selectin()))
        .await
        .unwrap();
    for team in &teams {
        let captain = s.related_one(team, Team::captain).unwrap().unwrap();
        s.delete(&captain).unwrap();
        s.delete(team).unwrap();
    }
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM k_team").await, 0);
    assert_eq!(count(&t, "SELECT count(*) FROM k_player").await, 0);
}

/// The same, loaded without their relationships: the tables' foreign keys tell the cycle.
#[tokio::test]
async fn rows_of_two_tables_loaded_apart_and_deleted_together() {
    let t = cross_tables().await;
    teams_with_captains(&t, 2).await;
    let mut s = t.session();
    let teams = s.all(select::<Team>()).await.unwrap();
    let players = s.all(select::<Player>()).await.unwrap();
    for o in &teams {
        s.delete(o).unwrap();
    }
    for o in &players {
        s.delete(o).unwrap();
    }
    s.commit().await.unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM k_team").await, 0);
    assert_eq!(count(&t, "SELECT count(*) FROM k_player").await, 0);
}

/// A club and its members: a member's club is required (`NOT NULL`), the club's captain is not.
#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "k_club")]
pub struct Club {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "k_member.id")]
    pub captain_id: Option<i64>,
}

#[derive(Model, Debug, Clone, PartialEq, Default)]
#[model(table = "k_member")]
pub struct Member {
    #[model(primary_key, generated)]
    pub id: i64,
    #[model(references = "k_club.id")]
    pub club_id: i64,
}

/// Only the nullable key of the cycle can be set to `NULL`: it is, and the `DELETE`s follow
/// the required one (members before their club), whatever order the objects were deleted in.
#[tokio::test]
async fn a_cycle_with_a_required_key_is_broken_at_the_nullable_one() {
    let t = setup().await;
    t.batch_execute(
        "CREATE TABLE k_club (id BIGSERIAL PRIMARY KEY, captain_id BIGINT);
         CREATE TABLE k_member (id BIGSERIAL PRIMARY KEY,
             club_id BIGINT NOT NULL REFERENCES k_club (id));
         ALTER TABLE k_club ADD FOREIGN KEY (captain_id) REFERENCES k_member (id);
         INSERT INTO k_club (id) VALUES (1), (2);
         INSERT INTO k_member (id, club_id) VALUES (10, 1), (11, 1), (20, 2);
         UPDATE k_club SET captain_id = id * 10;",
    )
    .await
    .unwrap();
    let mut s = t.session();
    let clubs = s.all(select::<Club>()).await.unwrap();
    let members = s.all(select::<Member>()).await.unwrap();
    for o in &clubs {
        s.delete(o).unwrap();
    }
    for o in &members {
        s.delete(o).unwrap();
    }
    orm_postgres::assert_queries!(
        s,
        [
            r#"UPDATE "k_club" SET "captain_id" = NULL FROM *"#,
            r#"DELETE FROM "k_member" USING *"#,
            r#"DELETE FROM "k_club" USING *"#,
            "COMMIT"
        ],
        async { s.commit().await }
    )
    .unwrap();
    assert_eq!(count(&t, "SELECT count(*) FROM k_club").await, 0);
    assert_eq!(count(&t, "SELECT count(*) FROM k_member").await, 0);
}
