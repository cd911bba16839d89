//! Every libpq connection parameter: what each one sets, which values it takes, and a typed
//! error for the ones this library does not implement or does not know.

use std::path::PathBuf;
use std::time::Duration;

use deadpool_postgres::tokio_postgres::config::{ChannelBinding, TargetSessionAttrs};

use super::redact::Secret;
use super::ssl::{RootCert, SslMode, TlsVersion};
use super::{ConfigError, ConnectOptions};

/// A comma-separated list (`host=a,b`), entries kept as written (empty ones too).
fn list(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(',').map(|v| v.trim().to_owned()).collect()
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

fn integer(name: &str, value: &str, expected: &'static str) -> Result<u64, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| ConfigError::invalid(name, value, expected))
}

fn flag(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(ConfigError::invalid(name, value, "0 or 1")),
    }
}

fn seconds(name: &str, value: &str) -> Result<Duration, ConfigError> {
    integer(name, value, "a whole number of seconds").map(Duration::from_secs)
}

/// Applies one parameter. A later value of the same parameter replaces an earlier one, as in
/// libpq.
pub(crate) fn apply(o: &mut ConnectOptions, key: &str, value: &str) -> Result<(), ConfigError> {
    match key {
        "host" => o.host = list(value),
        "hostaddr" => o.hostaddr = list(value),
        "port" => o.port = list(value),
        "dbname" => {
            if value.contains('=') || super::url::is_url(value) {
                return Err(ConfigError::unsupported(
                    "dbname",
                    None,
                    "a connection string inside dbname (libpq's expanded dbname) is not \
                     supported; give its parameters directly",
                ));
            }
            o.dbname = non_empty(value);
        }
        "user" => o.user = non_empty(value),
        "password" => o.password = (!value.is_empty()).then(|| Secret::new(value)),
        "passfile" => o.passfile = non_empty(value).map(PathBuf::from),
        "options" => o.options = non_empty(value),
        "application_name" => o.application_name = non_empty(value),
        "fallback_application_name" => o.fallback_application_name = non_empty(value),
        // libpq: 0 waits forever; here it leaves the builder's timeout in force.
        "connect_timeout" => {
            o.connect_timeout = Some(seconds(key, value)?).filter(|t| !t.is_zero());
        }
        "client_encoding" => {
            let v = value.to_ascii_uppercase().replace('-', "");
            if !(v == "UTF8" || v == "AUTO" || v.is_empty()) {
                return Err(ConfigError::unsupported(
                    key,
                    Some(value),
                    "connections always use UTF8",
                ));
            }
        }
        "keepalives" => o.keepalives = Some(integer(key, value, "0 or 1")? != 0),
        "keepalives_idle" => o.keepalives_idle = Some(seconds(key, value)?),
        "keepalives_interval" => o.keepalives_interval = Some(seconds(key, value)?),
        "keepalives_count" => {
            let n = integer(key, value, "a number of probes")?;
            o.keepalives_count = Some(
                u32::try_from(n)
                    .map_err(|_| ConfigError::invalid(key, value, "a number of probes"))?,
            );
        }
        "tcp_user_timeout" => {
            let ms = integer(key, value, "a whole number of milliseconds")?;
            o.tcp_user_timeout = (ms > 0).then(|| Duration::from_millis(ms));
        }
        "channel_binding" => {
            o.channel_binding = Some(match value {
                "disable" => ChannelBinding::Disable,
                "prefer" => ChannelBinding::Prefer,
                "require" => ChannelBinding::Require,
                _ => {
                    return Err(ConfigError::invalid(
                        key,
                        value,
                        "disable, prefer or require",
                    ));
                }
            });
        }
        "target_session_attrs" => {
            o.target_session_attrs = Some(match value {
                "any" => TargetSessionAttrs::Any,
                "read-write" => TargetSessionAttrs::ReadWrite,
                "read-only" => TargetSessionAttrs::ReadOnly,
                "primary" | "standby" | "prefer-standby" => {
                    return Err(ConfigError::unsupported(
                        key,
                        Some(value),
                        "use read-write (for the primary) or read-only",
                    ));
                }
                _ => {
                    return Err(ConfigError::invalid(
                        key,
                        value,
                        "any, read-write or read-only",
                    ));
                }
            });
        }
        "load_balance_hosts" => {
            o.load_balance_random = match value {
                "disable" => false,
                "random" => true,
                _ => return Err(ConfigError::invalid(key, value, "disable or random")),
            };
        }
        "sslmode" => o.ssl.mode = Some(value.parse::<SslMode>()?),
        // Ours, not libpq's: for poolers in transaction mode.
        "statement_mode" => o.statement_mode = Some(value.parse()?),
        "requiressl" => {
            o.ssl.mode = Some(if flag(key, value)? {
                SslMode::Require
            } else {
                SslMode::Prefer
            });
        }
        "sslrootcert" => {
            o.ssl.root_cert = match value {
                "" => None,
                "system" => Some(RootCert::System),
                path => Some(RootCert::File(PathBuf::from(path))),
            };
        }
        "sslcert" => o.ssl.cert = non_empty(value).map(PathBuf::from),
        "sslkey" => o.ssl.key = non_empty(value).map(PathBuf::from),
        "sslpassword" => o.ssl.password = (!value.is_empty()).then(|| Secret::new(value)),
        "sslsni" => o.ssl.no_sni = !flag(key, value)?,
        "sslcertmode" => {
            o.ssl.no_client_cert = match value {
                "disable" => true,
                "allow" => false,
                "require" => {
                    return Err(ConfigError::unsupported(
                        key,
                        Some(value),
                        "use allow (a certificate is sent when the server asks for one)",
                    ));
                }
                _ => return Err(ConfigError::invalid(key, value, "disable or allow")),
            };
        }
        "ssl_min_protocol_version" => {
            o.ssl.min_version = non_empty(value)
                .map(|v| TlsVersion::parse(key, &v))
                .transpose()?;
        }
        "ssl_max_protocol_version" => {
            o.ssl.max_version = non_empty(value)
                .map(|v| TlsVersion::parse(key, &v))
                .transpose()?;
        }
        "sslnegotiation" => {
            o.ssl.direct = match value {
                "postgres" => false,
                "direct" => true,
                _ => return Err(ConfigError::invalid(key, value, "postgres or direct")),
            };
        }
        // Obsolete: servers no longer compress.
        "sslcompression" => {
            flag(key, value)?;
        }
        // No GSSAPI here: `prefer` (libpq's default) falls back to what follows, as a libpq
        // built without GSSAPI does; the Kerberos settings then have nothing to configure.
        "gssencmode" => match value {
            "disable" | "prefer" => {}
            "require" => {
                return Err(ConfigError::unsupported(
                    key,
                    Some(value),
                    "GSSAPI encryption is not implemented; use TLS (sslmode)",
                ));
            }
            _ => {
                return Err(ConfigError::invalid(
                    key,
                    value,
                    "disable, prefer or require",
                ));
            }
        },
        "krbsrvname" | "gsslib" | "gssdelegation" => {}
        "replication" => match value {
            "" | "0" | "false" | "off" | "no" => {}
            _ => {
                return Err(ConfigError::unsupported(
                    key,
                    Some(value),
                    "replication connections are not supported",
                ));
            }
        },
        "sslcrl" | "sslcrldir" | "sslkeylogfile" | "requirepeer" | "require_auth" | "service" => {
            if !value.is_empty() {
                return Err(ConfigError::unsupported(key, None, unsupported_hint(key)));
            }
        }
        _ => {
            return Err(ConfigError::UnknownParameter {
                name: key.to_owned(),
            });
        }
    }
    Ok(())
}

fn unsupported_hint(key: &str) -> &'static str {
    match key {
        "service" => "give the service's settings in the URL instead of pg_service.conf",
        "require_auth" => "use channel_binding=require to insist on SCRAM over TLS",
        "sslcrl" | "sslcrldir" => "certificate revocation lists are not checked; remove it",
        _ => "remove it",
    }
}
