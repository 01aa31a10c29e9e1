//! `ferrowall`: the appliance binary.
use anyhow::Context;
use clap::Parser;
use ctrlplane::config::{self, DEFAULT_CONFIG};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// A DPDK poll-mode firewall appliance.
#[derive(Parser, Debug)]
#[command(name = "ferrowall", version, about = "A DPDK poll-mode firewall appliance: sessions, zones, policies, NAT, PPTP ALG", long_about = None)]
struct Args {
    /// Config file (TOML). Without it, the built-in default (the demo lab) is used.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Only validate the config and exit: 0 if valid, 2 if not.
    #[arg(long)]
    check_config: bool,
    /// Print the built-in default config and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Print counters every SECONDS while running.
    #[arg(long, value_name = "SECONDS")]
    stats_interval: Option<u64>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    // Before EAL pins this thread: reloads judge [cores] against every usable CPU.
    let _ = config::available_cpus();
    if args.print_default_config {
        print!("{DEFAULT_CONFIG}");
        return ExitCode::SUCCESS;
    }
    let validated = match load(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("ferrowall: invalid config: {e}");
            return ExitCode::from(2);
        }
    };
    if args.check_config {
        println!("config OK: {} port(s), {} worker(s)", validated.eal.devices.len(), validated.workers());
        return ExitCode::SUCCESS;
    }
    let source = match &args.config {
        Some(path) => ctrlplane::control::ConfigSource::File(path.clone()),
        None => ctrlplane::control::ConfigSource::BuiltIn,
    };
    match run(&validated, source, args.stats_interval.map(Duration::from_secs)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrowall: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(args: &Args) -> Result<config::Validated, config::ConfigError> {
    let (cfg, text, file) = match &args.config {
        Some(path) => {
            let (cfg, text) = config::load_file(path)?;
            (cfg, text, path.display().to_string())
        }
        None => (
            config::load_str(DEFAULT_CONFIG, "(built-in default)")?,
            DEFAULT_CONFIG.to_owned(),
            "(built-in default)".to_owned(),
        ),
    };
    config::validate(&cfg, &file, &text)
}

fn run(
    v: &config::Validated,
    source: ctrlplane::control::ConfigSource,
    interval: Option<Duration>,
) -> anyhow::Result<()> {
    let (_eal, appliance) = ctrlplane::run::start(v).context("start-up failed")?;
    ctrlplane::run::run_until_signal(appliance, v, source, interval)
}
