//! The RSS device model (rss_model.rs) with 4 workers.
#[path = "rss_model.rs"]
mod rss_model;

#[test]
fn established_traffic_reaches_its_owner_with_4_workers() {
    let (handed, received) = rss_model::run(4);
    println!("4 workers: {handed} of {received} established packets handed off");
    assert!(handed * 100 <= received, "hand-off share {handed}/{received} over 1%");
}
