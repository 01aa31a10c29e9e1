//! `fwctl`: the operator's CLI for a running ferrowall (see `ctrlplane::fwctl`).
use clap::Parser;
use ctrlplane::fwctl::{self, Endpoint};
use std::path::PathBuf;
use std::process::ExitCode;

/// Displays and changes a running ferrowall through its management API.
#[derive(Parser, Debug)]
#[command(name = "fwctl", version, after_help = fwctl::usage())]
struct Args {
    /// The API's Unix socket.
    #[arg(long, value_name = "PATH", default_value = "/run/ferrowall/api.sock", env = "FERROWALL_SOCKET")]
    socket: PathBuf,
    /// A loopback TCP address instead of the socket (if the config enables one).
    #[arg(long, value_name = "HOST:PORT")]
    tcp: Option<String>,
    /// JSON instead of the reference appliance's text.
    #[arg(long)]
    json: bool,
    /// The command, e.g. `display firewall session-table verbose`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    words: Vec<String>,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    // The command words swallow whatever follows them: `--json` may come last too.
    let before = args.words.len();
    args.words.retain(|w| w != "--json");
    let json = args.json || args.words.len() != before;
    let req = match fwctl::parse(&args.words, json) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fwctl: {e}");
            return ExitCode::from(2);
        }
    };
    let endpoint = match &args.tcp {
        Some(addr) => Endpoint::Tcp(addr),
        None => Endpoint::Socket(&args.socket),
    };
    match fwctl::send(&endpoint, &req) {
        Ok((200, body)) => {
            print!("{body}");
            ExitCode::SUCCESS
        }
        Ok((_, body)) => {
            eprint!("fwctl: {body}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("fwctl: {e}");
            ExitCode::from(3)
        }
    }
}
