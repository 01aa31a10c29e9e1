//! What a session-table display costs the worker: copying its sessions into views, 256
//! at a time as the inbox asks, over a table of 100,000 sessions (as in bench.sh's
//! ctl-cost). Usage: cargo bench -p dataplane --bench display
use dataplane::clock::Millis;
use dataplane::session::display::SessionView;
use dataplane::session::{App, NewSession, SessionTable, TimeoutClass, Timeouts};
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;
use wire::FlowKey;

const SESSIONS: u32 = 100_000;
const CHUNK: usize = 256;

fn main() {
    let mut table = SessionTable::new(131_072, Timeouts::default());
    for i in 0..SESSIONS {
        let original = FlowKey::new(
            Ipv4Addr::from(0xc0a8_0000 | (i % 200)),
            Ipv4Addr::new(198, 51, 100, (i % 7) as u8),
            1024 + (i / 200) as u16,
            53,
            17,
        );
        let translated = FlowKey {
            src: u32::from(Ipv4Addr::new(203, 0, 113, 2)),
            sport: 1024 + (i % 60_000) as u16,
            ..original
        };
        let new = NewSession {
            original,
            translated,
            tcp: None,
            class: TimeoutClass::Udp,
            app: App::None,
            nat: None,
            two_way: true,
            zones: [0, 1],
        };
        table.create(new, Millis(0), |_| {}).expect("room");
    }
    let now = Millis(1000);
    for round in 1..=5 {
        let start = Instant::now();
        let mut views = 0;
        let mut from = 0;
        loop {
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut next = None;
            for (id, s) in table.iter_from(from) {
                if chunk.len() == CHUNK {
                    next = Some(id);
                    break;
                }
                chunk.push(SessionView::new(&table, id, s, 0, now));
            }
            views += chunk.len();
            black_box(chunk);
            match next {
                Some(n) => from = n,
                None => break,
            }
        }
        let spent = start.elapsed();
        println!(
            "round {round}: {views} sessions in {:.2} ms: {:.0} ns per session, {:.1} us per {CHUNK}-session chunk",
            spent.as_secs_f64() * 1e3,
            spent.as_nanos() as f64 / views as f64,
            spent.as_secs_f64() * 1e6 / (views as f64 / CHUNK as f64)
        );
    }
}
