//! The `[sla]` section: parsed with the rest of the file, validated into the domain's
//! [`SlaPolicies`] with errors naming the field under `sla.`; team names are checked against
//! `[routing]` when the desk has one.

use std::sync::Arc;

use omnidesk_domain::sla::SlaPolicies;

use super::{ConfigError, DeskConfig, invalid};

/// How often the local desk runs the sweeper when `local.sla_sweep_interval_ms` is not set.
pub const DEFAULT_SWEEP_INTERVAL_MS: u64 = 60_000;

impl DeskConfig {
    /// The validated SLA policies, if the file has an `[sla]` section. Alert mail is sent
    /// from `sla.notify_from`, else from the email channel's address. Validated once, then
    /// shared.
    pub fn sla_policies(&self) -> Result<Option<Arc<SlaPolicies>>, ConfigError> {
        if let Some(policies) = self.validated.sla.get() {
            return Ok(policies.clone());
        }
        let policies = self.validate_sla()?;
        Ok(self.validated.sla.get_or_init(|| policies).clone())
    }

    fn validate_sla(&self) -> Result<Option<Arc<SlaPolicies>>, ConfigError> {
        let Some(sla) = &self.sla else {
            return Ok(None);
        };
        let mut sla = sla.clone();
        if sla.notify_from.is_none() {
            sla.notify_from = self.email.as_ref().map(|email| email.address.clone());
        }
        let policies = sla.validate().map_err(|e| invalid(format!("sla.{}", e.field), e.message))?;
        if let Some(routing) = self.routing()? {
            for (field, team) in policies.team_references() {
                if routing.team(&team).is_none() {
                    return Err(invalid(format!("sla.{field}"), format!("unknown team {team:?}")));
                }
            }
        }
        Ok(Some(Arc::new(policies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLA: &str = r#"
        [sla]
        warning_percent = 75
        team_calendars = { frontline = "business" }

        [sla.calendars.business]
        time_zone = "Asia/Shanghai"
        hours.monday = [{ start = "09:00", end = "12:00" }, { start = "13:00", end = "18:00" }]
        hours.friday = [{ start = "09:00", end = "18:00" }]
        holidays = ["2027-01-01"]
        make_up_days = [{ date = "2027-02-06", hours = [{ start = "09:00", end = "18:00" }] }]

        [[sla.policies]]
        priority = "normal"
        first_reply_minutes = 60
        resolution_minutes = 600

        [[sla.policies]]
        priority = "high"
        channel = "chat"
        first_reply_minutes = 2

        [[sla.escalations]]
        name = "frontline first reply"
        timers = ["first_reply"]
        teams = ["frontline"]
        to_team = "technical"
        notify_webhook = "https://oncall.example/hook"
    "#;

    const ROUTING: &str = r#"
        [routing]
        default_team = "frontline"
        teams = [{ id = "frontline", name = "F", tier = 1 }, { id = "technical", name = "T", tier = 2 }]
    "#;

    fn error_of(text: &str) -> String {
        DeskConfig::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn an_sla_section_is_validated_into_policies() {
        let config = DeskConfig::from_toml(&format!("{SLA}{ROUTING}")).unwrap();
        let policies = config.sla_policies().unwrap().expect("sla");
        assert_eq!(policies.warning_percent(), 75);
        assert!(DeskConfig::from_toml(ROUTING).unwrap().sla_policies().unwrap().is_none());
        let defaults = DeskConfig::from_toml("[sla]").unwrap().sla_policies().unwrap().expect("defaults");
        assert_eq!(defaults.warning_percent(), 80);
    }

    #[test]
    fn sla_errors_name_the_field() {
        let text = SLA.replace("first_reply_minutes = 2", "first_reply_minutes = 0");
        assert_eq!(error_of(&text), "sla.policies[1].first_reply_minutes: must be positive");
        let text = SLA.replace("first_reply_minutes = 2", "first_reply_minute = 2");
        assert!(
            error_of(&text).starts_with("sla.policies[1].first_reply_minute: unknown field"),
            "{}",
            error_of(&text)
        );
        let text = SLA.replace("\"Asia/Shanghai\"", "\"Asia/Shanghia\"");
        assert_eq!(error_of(&text), "sla.calendars.business: time_zone: unknown \"Asia/Shanghia\"");
        let text = format!("{}{ROUTING}", SLA.replace("to_team = \"technical\"", "to_team = \"billing\""));
        assert_eq!(error_of(&text), "sla.escalations[0].to_team: unknown team \"billing\"");
        let text = SLA.replace(
            "notify_webhook = \"https://oncall.example/hook\"",
            "notify_emails = [\"leads@shop.example\"]",
        );
        assert!(error_of(&text).starts_with("sla.notify_from: "), "{}", error_of(&text));
    }
}
