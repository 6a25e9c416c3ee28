//! Mutated configs never panic (issue 24, part 6): every shipped config, its values replaced
//! one at a time by hostile ones (zero, negative, huge, tiny, NaN, infinite, the wrong type, an
//! empty or a longer array, a removed key) in the file and through `--set`, goes through
//! loading, validation and `check` (which builds the problem and its microstructure). Each
//! either passes or stops with one line per problem found (`key = value: reason. Fix`); none
//! panics or hangs. The mutations come from a fixed seed, so
//! a failure names a reproducible case.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use swellfield::config;
use swellfield::initial::SplitMix64;

/// Mutations tried per shipped config, in the file and through `--set` each.
const PER_CONFIG: usize = 100;

const CONFIGS: [&str; 6] = [
    "configs/sn_hard_carbon.toml",
    "configs/sn_hard_carbon_1_2.toml",
    "configs/si_mose2_carbon.toml",
    "configs/p2_o3_cathode.toml",
    "configs/p2_o3_lamellae.toml",
    "configs/verification/pfhub_1a.toml",
];

/// Every leaf of `value` with its dotted path (array elements as `[i]`, which only the file
/// mutation reaches).
fn leaves(prefix: &str, value: &toml::Value, out: &mut Vec<(String, toml::Value)>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&path, v, out);
            }
        }
        toml::Value::Array(a) if a.iter().any(|v| v.is_table()) => {
            for (i, v) in a.iter().enumerate() {
                leaves(&format!("{prefix}[{i}]"), v, out);
            }
        }
        _ => out.push((prefix.to_string(), value.clone())),
    }
}

/// A hostile replacement for `value`, picked by `r`; `None`: remove the key.
fn hostile(value: &toml::Value, r: u64) -> Option<toml::Value> {
    use toml::Value as V;
    let x = match value {
        V::Integer(i) => *i as f64,
        V::Float(f) => *f,
        _ => 1.0,
    };
    Some(match r % 12 {
        0 => return None,
        1 => V::Float(0.0),
        2 => V::Float(-x),
        3 => V::Float(x * 1e6),
        4 => V::Float(x * 1e-9),
        5 => V::Float(f64::NAN),
        6 => V::Float(f64::INFINITY),
        7 => V::String("nonsense".into()),
        8 => V::Boolean(true),
        9 => V::Array(vec![]),
        10 => match value {
            V::Array(a) => V::Array(a.iter().chain(a.iter()).cloned().collect()),
            V::Integer(i) => V::Integer(i.saturating_mul(1 << 20)),
            _ => V::Integer(-3),
        },
        _ => V::Integer(0),
    })
}

/// Sets `path` (dotted, with `[i]` for array elements) in `root` to `value`, or removes it.
fn replace(root: &mut toml::Value, path: &str, value: Option<toml::Value>) {
    let mut parts: Vec<String> = Vec::new();
    for p in path.split('.') {
        match p.split_once('[') {
            Some((key, index)) => {
                parts.push(key.to_string());
                parts.push(format!("[{}", index));
            }
            None => parts.push(p.to_string()),
        }
    }
    let (last, head) = parts.split_last().unwrap();
    let mut node = root;
    for p in head {
        node = match p.strip_prefix('[') {
            Some(i) => {
                &mut node.as_array_mut().unwrap()[i.trim_end_matches(']').parse::<usize>().unwrap()]
            }
            None => node.get_mut(p.as_str()).unwrap(),
        };
    }
    match (last.strip_prefix('['), value) {
        (Some(i), v) => {
            let i: usize = i.trim_end_matches(']').parse().unwrap();
            let a = node.as_array_mut().unwrap();
            match v {
                Some(v) => a[i] = v,
                None => {
                    a.remove(i);
                }
            }
        }
        (None, Some(v)) => {
            node.as_table_mut().unwrap().insert(last.clone(), v);
        }
        (None, None) => {
            node.as_table_mut().unwrap().remove(last.as_str());
        }
    }
}

/// Loads `text` (written next to nothing: a temporary file) with `sets`, and runs `check` on
/// it and its pristine twin: `Ok` or one line, never a panic.
fn survives(text: &str, sets: &[String], case: &str) {
    let dir = common::temp_dir();
    let path = dir.path().join("mutated.toml");
    std::fs::write(&path, text).unwrap();
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), String> {
        let loaded = config::load(&path, sets).map_err(|e| e.to_string())?;
        swellfield::check::report(&loaded, false).map_err(|e| e.to_string())?;
        if loaded.config.pristine.is_some() {
            swellfield::check::report(&loaded, true).map_err(|e| e.to_string())?;
        }
        Ok(())
    }));
    match outcome {
        Err(_) => panic!("{case}: panicked"),
        Ok(Err(message)) => {
            // One line, or one line per problem the validation found, each complete: `key =
            // value: reason. Fix`.
            let lines: Vec<&str> = message.trim_end().lines().collect();
            assert!(
                lines.len() == 1 || lines.iter().all(|l| l.contains(" = ") && l.contains(": ")),
                "{case}: not one line per problem: {message}"
            );
        }
        Ok(Ok(())) => {}
    }
}

#[test]
fn mutated_configs_never_panic() {
    let mut rng = SplitMix64(0x5EED_F022);
    for name in CONFIGS {
        let text = std::fs::read_to_string(common::repo(name)).unwrap();
        let root: toml::Value = toml::from_str(&text).unwrap();
        let mut all = Vec::new();
        leaves("", &root, &mut all);
        for _ in 0..PER_CONFIG {
            let (path, value) = &all[(rng.next_u64() % all.len() as u64) as usize];
            let replacement = hostile(value, rng.next_u64());
            let case = format!("{name}: {path} -> {replacement:?}");
            let mut edited = root.clone();
            replace(&mut edited, path, replacement.clone());
            survives(&toml::to_string(&edited).unwrap(), &[], &case);
            // The same through --set, where the path is a plain key.
            if let Some(v) = replacement.filter(|_| !path.contains('['))
                && let Ok(rendered) =
                    toml::to_string(&toml::Table::from_iter([("v".to_string(), v)]))
            {
                let value = rendered.trim_start_matches("v = ").trim_end();
                survives(
                    &text,
                    &[format!("{path}={value}")],
                    &format!("--set {case}"),
                );
            }
        }
    }
}
