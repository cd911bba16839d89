//! libpq's environment variables (`PGHOST`, `PGSSLMODE`, ...) as defaults for what the
//! connection string leaves unset, read as libpq's `conninfo_add_defaults` reads them: a
//! parameter the string gives, even as an empty value (`host=`), is not looked up; a variable
//! that is set, even to the empty string, is the parameter's value, checked as the same value
//! in the string would be (an empty `PGSSLMODE` is an invalid `sslmode`, as in libpq); then
//! the built-in defaults. The environment itself is behind [`Env`], so tests (and
//! [`DatabaseBuilder::environment`](crate::DatabaseBuilder::environment)) can give their own.

use std::path::PathBuf;

use super::{ConfigError, ConnectOptions, params};

/// The environment variables, behind a trait so the tests and the builder can give their own.
pub(crate) trait Env {
    /// The variable's value as set, the empty string included (libpq's `getenv`).
    fn var(&self, name: &str) -> Option<String>;

    /// The variable's value, unset and empty being the same (`HOME`, `USER`).
    fn non_empty(&self, name: &str) -> Option<String> {
        self.var(name).filter(|v| !v.is_empty())
    }

    /// The home directory, for `~/.pgpass` and `~/.postgresql/`.
    fn home(&self) -> Option<PathBuf> {
        self.non_empty("HOME").map(PathBuf::from)
    }
}

/// The process's environment.
pub(crate) struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// An environment of the caller's: a function from a variable's name to its value.
pub(crate) struct FnEnv<'a>(pub &'a (dyn Fn(&str) -> Option<String> + Send + Sync));

impl Env for FnEnv<'_> {
    fn var(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }
}

/// An environment of a test's own: the variables it sets, and no others.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct MapEnv(std::collections::HashMap<&'static str, String>);

#[cfg(test)]
impl MapEnv {
    pub(crate) fn of(vars: &[(&'static str, &str)]) -> MapEnv {
        MapEnv(vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
    }
}

#[cfg(test)]
impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// libpq's environment variables and the parameter each one gives a default to (libpq's
/// `PQconninfoOptions`), for every parameter this library takes in a connection string. A
/// value the parameter does not take, or takes but this library does not implement, is the
/// same [`ConfigError`] as in the string, naming the variable.
pub(crate) const VARIABLES: [(&str, &str); 33] = [
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGSERVICE", "service"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGCLIENTENCODING", "client_encoding"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLCERTMODE", "sslcertmode"),
    ("PGSSLSNI", "sslsni"),
    ("PGSSLCOMPRESSION", "sslcompression"),
    ("PGSSLMINPROTOCOLVERSION", "ssl_min_protocol_version"),
    ("PGSSLMAXPROTOCOLVERSION", "ssl_max_protocol_version"),
    ("PGSSLCRL", "sslcrl"),
    ("PGSSLCRLDIR", "sslcrldir"),
    ("PGREQUIREPEER", "requirepeer"),
    ("PGREQUIREAUTH", "require_auth"),
    ("PGGSSENCMODE", "gssencmode"),
    ("PGKRBSRVNAME", "krbsrvname"),
    ("PGGSSLIB", "gsslib"),
    ("PGGSSDELEGATION", "gssdelegation"),
];

/// libpq's deprecated `PGREQUIRESSL`: with neither `sslmode` in the string nor `PGSSLMODE` set,
/// a value starting with `1` means `sslmode=require`; any other value is ignored.
pub(crate) const REQUIRESSL: &str = "PGREQUIRESSL";

/// The variables libpq reads that this library does not: the settings they carry (a service
/// file, session defaults sent at startup, protocol versions) have no parameter here.
pub(crate) const UNREAD: [&str; 7] = [
    "PGSERVICEFILE",
    "PGSYSCONFDIR",
    "PGDATESTYLE",
    "PGTZ",
    "PGGEQO",
    "PGMINPROTOCOLVERSION",
    "PGMAXPROTOCOLVERSION",
];

/// The parameter a string's key sets (`requiressl` sets `sslmode`, as in libpq).
pub(crate) fn parameter(key: &str) -> &str {
    match key {
        "requiressl" => "sslmode",
        key => key,
    }
}

/// Fills the parameters that neither the string nor the builder gave (`given`) from the
/// environment, recording in `o.from_env` which variable gave which parameter.
pub(crate) fn fill(
    o: &mut ConnectOptions,
    given: &[String],
    env: &dyn Env,
) -> Result<(), ConfigError> {
    let is_given = |param: &str| given.iter().any(|g| g == param);
    for (var, param) in VARIABLES {
        if is_given(param) {
            continue;
        }
        let Some(value) = env.var(var) else {
            continue;
        };
        params::apply(o, param, &value).map_err(|e| named(e, param, var))?;
        o.from_env.push((param, var));
    }
    if !is_given("sslmode") && env.var("PGSSLMODE").is_none() {
        if let Some(value) = env.var(REQUIRESSL) {
            if value.starts_with('1') {
                params::apply(o, "sslmode", "require")?;
                o.from_env.push(("sslmode", REQUIRESSL));
            }
        }
    }
    Ok(())
}

/// `e`, about the parameter `param`, said of the variable `var` that gave its value.
pub(crate) fn named(mut e: ConfigError, param: &str, var: &'static str) -> ConfigError {
    match &mut e {
        ConfigError::InvalidValue { name, .. } | ConfigError::Unsupported { name, .. }
            if name == param =>
        {
            *name = var.to_owned();
        }
        ConfigError::File { what, .. } if *what == param => *what = var,
        ConfigError::HostCountMismatch { list, .. } if *list == param => *list = var,
        ConfigError::InvalidPort { value } if param == "port" => {
            e = ConfigError::InvalidValue {
                name: var.to_owned(),
                value: std::mem::take(value),
                expected: "a port number from 1 to 65535, or one per host separated by commas",
            };
        }
        _ => {}
    }
    e
}

/// Those of [`UNREAD`] that are set (to anything, as libpq would read them).
pub(crate) fn unread(env: &dyn Env) -> Vec<&'static str> {
    UNREAD
        .into_iter()
        .filter(|name| env.var(name).is_some())
        .collect()
}

#[cfg(test)]
mod tests;
