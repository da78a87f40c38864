//! Reads typed settings out of the merged `config` value tree, collecting every problem.
//!
//! The `config` crate merges the layers (file, environment, flags); this reader then takes each
//! known key, parses it, and records what went wrong with the key's path and where the value
//! came from. Whatever is left unread afterwards is an unknown key.

use std::{collections::BTreeSet, fmt, str::FromStr, time::Duration};

use config::{Map, Value, ValueKind};

/// One problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Dotted path of the key, with `[i]` for list elements: `beacon.endpoints[1]`.
    pub path: String,
    /// What is wrong, in words an operator can act on.
    pub message: String,
    /// Where the value came from (a file path, the environment, the command line), when known.
    pub origin: Option<String>,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if let Some(origin) = &self.origin {
            write!(f, " (set in {origin})")?;
        }
        Ok(())
    }
}

/// Walks a merged configuration tree, parsing known keys and remembering them.
pub(crate) struct Reader<'a> {
    root: &'a Map<String, Value>,
    known: BTreeSet<String>,
    issues: Vec<ConfigIssue>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(root: &'a Map<String, Value>) -> Self {
        Self {
            root,
            known: BTreeSet::new(),
            issues: Vec::new(),
        }
    }

    fn lookup(&self, path: &str) -> Option<&'a Value> {
        let mut parts = path.split('.');
        let mut current = self.root.get(parts.next()?)?;
        for part in parts {
            match &current.kind {
                ValueKind::Table(table) => current = table.get(part)?,
                _ => return None,
            }
        }
        match current.kind {
            ValueKind::Nil => None,
            _ => Some(current),
        }
    }

    /// Records an issue found by a cross-field check.
    pub(crate) fn issue(&mut self, path: &str, message: impl Into<String>) {
        let origin = self
            .lookup(path)
            .and_then(|v| v.origin().map(str::to_owned));
        self.issues.push(ConfigIssue {
            path: path.to_owned(),
            message: message.into(),
            origin,
        });
    }

    /// Reads an optional key with `parse`; a value that fails to parse is recorded and yields `None`.
    pub(crate) fn optional<T>(
        &mut self,
        path: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        self.known.insert(path.to_owned());
        let value = self.lookup(path)?;
        match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(message) => {
                self.issues.push(ConfigIssue {
                    path: path.to_owned(),
                    message,
                    origin: value.origin().map(str::to_owned),
                });
                None
            }
        }
    }

    /// Reads a key that has a default.
    pub(crate) fn read<T>(
        &mut self,
        path: &str,
        default: T,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> T {
        self.optional(path, parse).unwrap_or(default)
    }

    /// Reads a list: a TOML array, or a comma-separated string (environment variables, flags).
    /// Each element is parsed on its own and a bad one is reported as `path[i]`.
    pub(crate) fn list<T>(
        &mut self,
        path: &str,
        parse: impl Fn(&Value) -> Result<T, String>,
    ) -> Vec<T> {
        self.known.insert(path.to_owned());
        let Some(value) = self.lookup(path) else {
            return Vec::new();
        };
        let origin = value.origin().map(str::to_owned);
        let elements: Vec<Value> = match &value.kind {
            ValueKind::Array(items) => items.clone(),
            ValueKind::String(text) => text
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(|part| Value::new(origin.as_ref(), ValueKind::String(part.to_owned())))
                .collect(),
            _ => {
                self.issues.push(ConfigIssue {
                    path: path.to_owned(),
                    message: format!("expected a list, found {}", describe(value)),
                    origin,
                });
                return Vec::new();
            }
        };
        let mut parsed = Vec::with_capacity(elements.len());
        for (i, element) in elements.iter().enumerate() {
            match parse(element) {
                Ok(item) => parsed.push(item),
                Err(message) => self.issues.push(ConfigIssue {
                    path: format!("{path}[{i}]"),
                    message,
                    origin: element
                        .origin()
                        .map(str::to_owned)
                        .or_else(|| origin.clone()),
                }),
            }
        }
        parsed
    }

    /// Whether `path` has a value (valid or not).
    pub(crate) fn is_set(&self, path: &str) -> bool {
        self.lookup(path).is_some()
    }

    /// The keys of the table at `path` (sorted; empty when absent). A value there that is not a
    /// table is recorded as an issue.
    pub(crate) fn table_keys(&mut self, path: &str) -> Vec<String> {
        let Some(value) = self.lookup(path) else {
            return Vec::new();
        };
        match &value.kind {
            ValueKind::Table(table) => {
                let mut keys: Vec<String> = table.keys().cloned().collect();
                keys.sort();
                keys
            }
            _ => {
                self.known.insert(path.to_owned());
                self.issues.push(ConfigIssue {
                    path: path.to_owned(),
                    message: format!("expected a table of settings, found {}", describe(value)),
                    origin: value.origin().map(str::to_owned),
                });
                Vec::new()
            }
        }
    }

    /// Reports every key in the tree that no `read`/`optional` asked for, with a suggestion,
    /// and returns all issues sorted by path.
    pub(crate) fn finish(mut self) -> Vec<ConfigIssue> {
        let mut unknown = Vec::new();
        collect_unknown(self.root, "", &self.known, &mut unknown);
        self.issues.extend(unknown);
        self.issues.sort_by(|a, b| a.path.cmp(&b.path));
        self.issues
    }
}

fn collect_unknown(
    table: &Map<String, Value>,
    prefix: &str,
    known: &BTreeSet<String>,
    out: &mut Vec<ConfigIssue>,
) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let origin = value.origin().map(str::to_owned);
        if known.contains(&path) {
            continue;
        }
        let section = format!("{path}.");
        if known.iter().any(|k| k.starts_with(&section)) {
            match &value.kind {
                ValueKind::Table(inner) => collect_unknown(inner, &path, known, out),
                _ => out.push(ConfigIssue {
                    path,
                    message: format!("expected a table of settings, found {}", describe(value)),
                    origin,
                }),
            }
            continue;
        }
        let message = match suggest(&path, known) {
            Some(close) => format!("unknown key (did you mean `{close}`?)"),
            None => "unknown key".to_owned(),
        };
        out.push(ConfigIssue {
            path,
            message,
            origin,
        });
    }
}

/// The known key or section closest to `path`, if one is close enough to be a likely typo.
fn suggest(path: &str, known: &BTreeSet<String>) -> Option<String> {
    let mut candidates: BTreeSet<String> = BTreeSet::new();
    for key in known {
        let mut prefix = String::new();
        for part in key.split('.') {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(part);
            candidates.insert(prefix.clone());
        }
    }
    let leaf = path.rsplit('.').next().unwrap_or(path);
    candidates
        .into_iter()
        // The section a key sits in is never the suggestion for it.
        .filter(|candidate| !path.starts_with(&format!("{candidate}.")))
        .map(|candidate| {
            let whole = strsim::jaro_winkler(path, &candidate);
            // A key set in the wrong section (`listen` instead of `http.listen`) matches on its last part.
            let last =
                strsim::jaro_winkler(leaf, candidate.rsplit('.').next().unwrap_or(&candidate));
            (whole.max(last * 0.95), candidate)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

fn describe(value: &Value) -> &'static str {
    match value.kind {
        ValueKind::Nil => "nothing",
        ValueKind::Boolean(_) => "a boolean",
        ValueKind::I64(_) | ValueKind::I128(_) | ValueKind::U64(_) | ValueKind::U128(_) => {
            "an integer"
        }
        ValueKind::Float(_) => "a number",
        ValueKind::String(_) => "a string",
        ValueKind::Table(_) => "a table",
        ValueKind::Array(_) => "a list",
    }
}

/// A scalar as text: strings as they are, numbers and booleans as written. Environment variables
/// arrive as strings or, when they look like one, as numbers; both are accepted wherever text is.
pub(crate) fn text(value: &Value) -> Result<String, String> {
    match &value.kind {
        ValueKind::String(s) => Ok(s.clone()),
        ValueKind::I64(n) => Ok(n.to_string()),
        ValueKind::I128(n) => Ok(n.to_string()),
        ValueKind::U64(n) => Ok(n.to_string()),
        ValueKind::U128(n) => Ok(n.to_string()),
        ValueKind::Float(n) => Ok(n.to_string()),
        ValueKind::Boolean(b) => Ok(b.to_string()),
        _ => Err(format!("expected a string, found {}", describe(value))),
    }
}

/// A non-empty string.
pub(crate) fn non_empty(value: &Value) -> Result<String, String> {
    let s = text(value)?;
    if s.trim().is_empty() {
        Err("must not be empty".to_owned())
    } else {
        Ok(s)
    }
}

/// Any type with `FromStr`, described as `what` in the error.
pub(crate) fn parsed<T: FromStr>(what: &'static str) -> impl FnOnce(&Value) -> Result<T, String>
where
    T::Err: fmt::Display,
{
    move |value| {
        let s = text(value)?;
        s.parse::<T>()
            .map_err(|e| format!("{s:?} is not {what}: {e}"))
    }
}

/// A duration: a human-readable string (`"30s"`, `"1m 30s"`, `"500ms"`) or an integer of seconds.
pub(crate) fn duration(value: &Value) -> Result<Duration, String> {
    match &value.kind {
        ValueKind::I64(n) => u64::try_from(*n)
            .map(Duration::from_secs)
            .map_err(|_| format!("{n} is not a duration: must not be negative")),
        ValueKind::U64(n) => Ok(Duration::from_secs(*n)),
        _ => {
            let s = text(value)?;
            humantime::parse_duration(&s)
                .map_err(|e| format!("{s:?} is not a duration such as \"30s\" or \"2m\": {e}"))
        }
    }
}

/// One of a fixed set of words.
pub(crate) fn one_of(
    choices: &'static [&'static str],
) -> impl FnOnce(&Value) -> Result<String, String> {
    move |value| {
        let s = text(value)?;
        if choices.contains(&s.as_str()) {
            Ok(s)
        } else {
            Err(format!("{s:?} is not one of: {}", choices.join(", ")))
        }
    }
}
