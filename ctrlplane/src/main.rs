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
    /// With --check-config: judge [cores] against these CPUs (`0-15`, `0,2,4-7`) instead
    /// of this machine's, to check a config meant for another server.
    #[arg(long, value_name = "LIST", requires = "check_config", value_parser = parse_cpu_list)]
    cpus: Option<CpuList>,
    /// Print counters every SECONDS while running.
    #[arg(long, value_name = "SECONDS")]
    stats_interval: Option<u64>,
}

fn main() -> ExitCode {
    init_logging();
    let args = Args::parse();
    // Before any thread starts: only this process may notify systemd, and reading the
    // variables then removing them is safe while nothing else runs.
    let notify = std::sync::Arc::new(ctrlplane::notify::Notifier::from_env());
    // Before EAL pins this thread: reloads judge [cores] against every usable CPU.
    config::set_available_cpus(args.cpus.clone().map(|c| c.0));
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
    match run(&validated, source, args.stats_interval.map(Duration::from_secs), notify) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrowall: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to standard error; under systemd's journal (which stamps every line itself, and
/// says so in JOURNAL_STREAM) without a second timestamp.
fn init_logging() {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().init();
    } else {
        builder.init();
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
    notify: std::sync::Arc<ctrlplane::notify::Notifier>,
) -> anyhow::Result<()> {
    let (_eal, appliance) = ctrlplane::run::start(v).context("start-up failed")?;
    ctrlplane::run::run_until_signal(appliance, v, source, interval, notify)
}

/// CPU numbers, given as `0-3,8,10-11`.
#[derive(Debug, Clone)]
struct CpuList(Vec<usize>);

fn parse_cpu_list(s: &str) -> Result<CpuList, String> {
    let mut cpus = Vec::new();
    for part in s.split(',').map(str::trim) {
        let num = |t: &str| t.trim().parse::<usize>().map_err(|_| format!("{t:?} is not a CPU number"));
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b || b - a > 4096 {
                    return Err(format!("{part:?} is not a range of CPUs"));
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(num(part)?),
        }
    }
    Ok(CpuList(cpus))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
        let a = Args::try_parse_from(["ferrowall", "--check-config", "--cpus", "0-2,5"]).unwrap();
        assert_eq!(a.cpus.map(|c| c.0), Some(vec![0, 1, 2, 5]));
        assert!(Args::try_parse_from(["ferrowall", "--cpus", "0-3"]).is_err(), "only with --check-config");
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("x").is_err());
    }
}
