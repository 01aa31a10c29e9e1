//! The running appliance and the config it runs, as the management API, the metrics
//! endpoint and signals see them; reload lives here.
use crate::config::{self, Validated, DEFAULT_CONFIG};
use crate::notify::Notifier;
use dataplane::ruleset::Ruleset;
use dataplane::Appliance;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the config came from, to read it again at reload.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    File(PathBuf),
    BuiltIn,
}

pub struct Control {
    appliance: Arc<Appliance>,
    source: ConfigSource,
    /// The config running now; the lock also serializes reloads.
    running: Mutex<Validated>,
    /// systemd hears of every reload, however it was asked for.
    notify: Arc<Notifier>,
}

impl Control {
    pub fn new(
        appliance: Arc<Appliance>,
        source: ConfigSource,
        running: Validated,
        notify: Arc<Notifier>,
    ) -> Control {
        Control { appliance, source, running: Mutex::new(running), notify }
    }

    pub fn appliance(&self) -> &Appliance {
        &self.appliance
    }

    /// The ruleset in force (for displays that name pools and zones).
    pub fn rules(&self) -> Ruleset {
        self.running.lock().reloadable().0.clone()
    }

    /// Reads and validates the config again; applies it if only what a reload may
    /// change has changed. On any error the running config stays as it is.
    pub fn reload(&self) -> Result<String, String> {
        let mut running = self.running.lock();
        self.notify.reloading();
        let result = self.reload_locked(&mut running);
        // Refused or applied, the appliance runs on: systemd must hear it is ready again.
        let status = match &result {
            Ok(m) | Err(m) => m,
        };
        self.notify.ready(status);
        result
    }

    fn reload_locked(&self, running: &mut Validated) -> Result<String, String> {
        let new = self.load().map_err(|e| format!("reload refused: {e}"))?;
        if let Some(why) = running.needs_restart(&new) {
            return Err(format!("reload refused: {why}"));
        }
        let (rules, alg) = new.reloadable();
        let (old_rules, old_alg) = running.reloadable();
        if (rules, alg) == (old_rules, old_alg) {
            *running = new;
            return Ok("reload: no change".into());
        }
        // Two stores that cannot fail: the reload is in force on every core, or (refused
        // above) on none.
        self.appliance.set_alg_limits(alg);
        self.appliance.set_rules(Arc::new(rules.clone()));
        let summary = format!(
            "reload: applied ({} security rule(s), {} NAT rule(s), PPTP ALG on {} zone pair(s))",
            rules.policy.rules().len(),
            rules.nat.policies.len(),
            rules.alg.pptp.len()
        );
        *running = new;
        Ok(summary)
    }

    fn load(&self) -> Result<Validated, config::ConfigError> {
        match &self.source {
            ConfigSource::File(path) => {
                let (cfg, text) = config::load_file(path)?;
                config::validate(&cfg, &path.display().to_string(), &text)
            }
            ConfigSource::BuiltIn => {
                let cfg = config::load_str(DEFAULT_CONFIG, "(built-in default)")?;
                config::validate(&cfg, "(built-in default)", DEFAULT_CONFIG)
            }
        }
    }
}
