//! Presenting results: a table for people, one `RESULT` line per scenario for
//! scripts, and hand-written SVG bar charts (no plotting crate).

use std::fmt::Write as _;

use super::{Family, Measurement, Outcome, ScenarioResult};

/// `1234567.8` -> `1,234,568`.
pub fn fmt_int(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1234567.0` -> `1.23M`, `12345.0` -> `12.3k`.
fn fmt_short(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn cell(o: &Outcome, f: impl Fn(&Measurement) -> String) -> String {
    match o {
        Outcome::Measured(m) => f(m),
        Outcome::Skipped(_) => "skipped".into(),
        Outcome::Failed(_) => "FAILED".into(),
        Outcome::NotApplicable => "n/a".into(),
    }
}

fn ratio_cell(r: &ScenarioResult) -> String {
    fmt_ratio(r.ratio())
}

fn kafka_ratio_cell(r: &ScenarioResult) -> String {
    fmt_ratio(r.kafka_ratio())
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map(|x| format!("{x:.2}x"))
        .unwrap_or_else(|| "n/a".into())
}

/// The sides shown: Skiff, Kafka (when a peer), the mock.
fn sides(r: &ScenarioResult, kafka: bool) -> Vec<(&'static str, &Outcome)> {
    let mut v = vec![("skiff", &r.skiff)];
    if kafka {
        v.push(("kafka", &r.kafka));
    }
    v.push(("mock", &r.mock));
    v
}

/// Skip/failure reasons and measurement notes, for the last column.
fn note(r: &ScenarioResult) -> String {
    note_of(&[("skiff", &r.skiff), ("kafka", &r.kafka), ("mock", &r.mock)])
}

fn note_of(sides: &[(&str, &Outcome)]) -> String {
    let mut parts = Vec::new();
    for &(side, o) in sides {
        match o {
            Outcome::Measured(m) if !m.note.is_empty() => parts.push(format!("{side}: {}", m.note)),
            Outcome::Skipped(why) => parts.push(format!("{side} {why}")),
            Outcome::Failed(e) => {
                let first = e.lines().next().unwrap_or("");
                parts.push(format!("{side} FAILED: {first}"))
            }
            _ => {}
        }
    }
    parts.dedup();
    parts.join("; ")
}

fn cpu_per_gb(m: &Measurement, cpu: Option<f64>) -> String {
    match cpu {
        Some(c) if m.payload_bytes > 0 => {
            format!("{:.2}", c / (m.payload_bytes as f64 / (1u64 << 30) as f64))
        }
        _ => "-".into(),
    }
}

/// The human-readable table, one section per family. With `kafka`, real
/// Kafka's figures stand next to Skiff's and the mock's, with the ratios
/// Skiff/Kafka and Skiff/mock.
// Column titles stay arguments so they line up with the row formats below.
#[allow(clippy::write_literal)]
pub fn table(results: &[ScenarioResult], kafka: bool) -> String {
    let mut s = String::new();
    let thr: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| matches!(r.family, Family::Produce | Family::Consume | Family::Fsync))
        .collect();
    if !thr.is_empty() {
        if kafka {
            let _ = writeln!(
                s,
                "{:<30} {:>11} {:>11} {:>11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}  {}",
                "THROUGHPUT (msg/s)",
                "skiff",
                "kafka",
                "mock",
                "sk/kafka",
                "sk/mock",
                "skiffMB/s",
                "kafkaMB/s",
                "skCPU/GB",
                "kaCPU/GB",
                "cliCPU/GB",
                "note"
            );
        } else {
            let _ = writeln!(
                s,
                "{:<30} {:>12} {:>12} {:>7} {:>9} {:>9} {:>8} {:>8}  {}",
                "THROUGHPUT (msg/s)",
                "skiff",
                "mock",
                "ratio",
                "skiff MB/s",
                "mock MB/s",
                "brkCPU/GB",
                "cliCPU/GB",
                "note"
            );
        }
        for r in thr {
            if kafka {
                let _ = writeln!(
                    s,
                    "{:<30} {:>11} {:>11} {:>11} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8} {:>9}  {}",
                    r.name,
                    cell(&r.skiff, |m| fmt_int(m.msgs_per_s)),
                    cell(&r.kafka, |m| fmt_int(m.msgs_per_s)),
                    cell(&r.mock, |m| fmt_int(m.msgs_per_s)),
                    kafka_ratio_cell(r),
                    ratio_cell(r),
                    cell(&r.skiff, |m| format!("{:.1}", m.mb_per_s)),
                    cell(&r.kafka, |m| format!("{:.1}", m.mb_per_s)),
                    cell(&r.skiff, |m| cpu_per_gb(m, m.broker_cpu_s)),
                    cell(&r.kafka, |m| cpu_per_gb(m, m.broker_cpu_s)),
                    cell(&r.skiff, |m| cpu_per_gb(m, m.client_cpu_s)),
                    note(r)
                );
            } else {
                let _ = writeln!(
                    s,
                    "{:<30} {:>12} {:>12} {:>7} {:>10} {:>9} {:>9} {:>9}  {}",
                    r.name,
                    cell(&r.skiff, |m| fmt_int(m.msgs_per_s)),
                    cell(&r.mock, |m| fmt_int(m.msgs_per_s)),
                    ratio_cell(r),
                    cell(&r.skiff, |m| format!("{:.1}", m.mb_per_s)),
                    cell(&r.mock, |m| format!("{:.1}", m.mb_per_s)),
                    cell(&r.skiff, |m| cpu_per_gb(m, m.broker_cpu_s)),
                    cell(&r.skiff, |m| cpu_per_gb(m, m.client_cpu_s)),
                    note(r)
                );
            }
        }
        s.push('\n');
    }
    let lat: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| r.family == Family::Latency)
        .collect();
    if !lat.is_empty() {
        let pcts = |o: &Outcome| {
            cell(o, |m| match m.latency_ms {
                Some([a, b, c]) => format!("{a:.2} / {b:.2} / {c:.2}"),
                None => "-".into(),
            })
        };
        if kafka {
            let _ = writeln!(
                s,
                "{:<24} {:>24} {:>24} {:>26} {:>8} {:>8} {:>8}  {}",
                "LATENCY (ms)",
                "skiff p50 / p99 / p999",
                "kafka p50 / p99 / p999",
                "mock p50 / p99 / p999",
                "skiff/s",
                "kafka/s",
                "mock/s",
                "note"
            );
            for r in lat {
                let _ = writeln!(
                    s,
                    "{:<24} {:>24} {:>24} {:>26} {:>8} {:>8} {:>8}  {}",
                    r.name,
                    pcts(&r.skiff),
                    pcts(&r.kafka),
                    pcts(&r.mock),
                    cell(&r.skiff, |m| fmt_int(m.msgs_per_s)),
                    cell(&r.kafka, |m| fmt_int(m.msgs_per_s)),
                    cell(&r.mock, |m| fmt_int(m.msgs_per_s)),
                    note(r)
                );
            }
        } else {
            let _ = writeln!(
                s,
                "{:<24} {:>26} {:>26} {:>10} {:>10}  {}",
                "LATENCY (ms)",
                "skiff p50 / p99 / p999",
                "mock p50 / p99 / p999",
                "skiff/s",
                "mock/s",
                "note"
            );
            for r in lat {
                let _ = writeln!(
                    s,
                    "{:<24} {:>26} {:>26} {:>10} {:>10}  {}",
                    r.name,
                    pcts(&r.skiff),
                    pcts(&r.mock),
                    cell(&r.skiff, |m| fmt_int(m.msgs_per_s)),
                    cell(&r.mock, |m| fmt_int(m.msgs_per_s)),
                    note(r)
                );
            }
        }
        s.push_str(
            "  (librdkafka's mock answers an empty Fetch only after fetch.wait.max.ms, 500 ms by\n   \
             default, and never wakes it on append: its latency is bounded by that, not by work.\n   \
             The client default linger.ms=5 sets a floor of a few ms on any broker; the\n   \
             -linger0 rows set linger.ms=0 to show the broker's own share.)\n",
        );
        s.push('\n');
    }
    let other: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| {
            matches!(
                r.family,
                Family::Startup | Family::Resources | Family::Registry | Family::Groups
            )
        })
        .collect();
    if !other.is_empty() {
        let unit_of = |r: &ScenarioResult| {
            let unit = [&r.skiff, &r.kafka]
                .iter()
                .find_map(|o| o.measured().and_then(|m| m.value.map(|(u, _)| u)))
                .unwrap_or("");
            match unit {
                "ms" => "ms to first response",
                "mb" => "MB",
                "broker_cpu_s_per_gb" => "broker CPU s/GB",
                u => u,
            }
        };
        let details = |side: &str, o: &Outcome| match o.measured() {
            Some(m) => m
                .fields
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            None => note_of(&[(side, o)]),
        };
        let value = |o: &Outcome| {
            cell(o, |m| {
                m.value.map(|(_, v)| format!("{v:.2}")).unwrap_or_default()
            })
        };
        if kafka {
            let _ = writeln!(
                s,
                "{:<24} {:>10} {:>10} {:>8} {:<22}  {}",
                "STARTUP / RESOURCES", "skiff", "kafka", "sk/kafka", "unit", "details"
            );
            for r in other {
                let _ = writeln!(
                    s,
                    "{:<24} {:>10} {:>10} {:>8} {:<22}  skiff: {}",
                    r.name,
                    value(&r.skiff),
                    value(&r.kafka),
                    kafka_ratio_cell(r),
                    unit_of(r),
                    details("skiff", &r.skiff)
                );
                if !matches!(r.kafka, Outcome::NotApplicable) {
                    let _ = writeln!(s, "{:<81}  kafka: {}", "", details("kafka", &r.kafka));
                }
            }
        } else {
            let _ = writeln!(
                s,
                "{:<24} {:>12} {:<22} {:>6}  {}",
                "STARTUP / RESOURCES", "skiff", "unit", "mock", "details"
            );
            for r in other {
                let _ = writeln!(
                    s,
                    "{:<24} {:>12} {:<22} {:>6}  {}",
                    r.name,
                    value(&r.skiff),
                    unit_of(r),
                    cell(&r.mock, |_| String::new()),
                    details("skiff", &r.skiff)
                );
            }
        }
        s.push('\n');
    }
    let failures: Vec<String> = results.iter().flat_map(|r| r.failures()).collect();
    if !failures.is_empty() {
        s.push_str("FAILURES\n");
        for f in failures {
            s.push_str(&f);
            s.push('\n');
        }
    }
    s
}

fn side_value(o: &Outcome, f: impl Fn(&Measurement) -> String) -> String {
    match o {
        Outcome::Measured(m) => f(m),
        Outcome::Skipped(_) => "skipped".into(),
        Outcome::Failed(_) => "failed".into(),
        Outcome::NotApplicable => "n/a".into(),
    }
}

/// One `RESULT scenario=... key=value ...` line per result. With `kafka`
/// every `skiff_*`/`mock_*` key also comes as `kafka_*`, plus
/// `ratio_kafka=` (Skiff/Kafka); `ratio=` stays Skiff/mock.
pub fn result_lines(results: &[ScenarioResult], kafka: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for r in results {
        let sides = sides(r, kafka);
        let mut l = format!("RESULT scenario={}", r.name);
        let ratio = r
            .ratio()
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "n/a".into());
        let value_unit = [&r.skiff, &r.kafka, &r.mock]
            .iter()
            .find_map(|o| o.measured().and_then(|m| m.value.map(|(u, _)| u)));
        match (r.family, value_unit) {
            (
                Family::Startup | Family::Resources | Family::Registry | Family::Groups,
                Some(unit),
            ) => {
                for (side, o) in &sides {
                    let v = side_value(o, |m| {
                        m.value.map(|(_, v)| format!("{v:.3}")).unwrap_or_default()
                    });
                    let _ = write!(l, " {side}_{unit}={v}");
                }
            }
            _ => {
                for (side, o) in &sides {
                    let v = side_value(o, |m| format!("{:.1}", m.msgs_per_s));
                    let _ = write!(l, " {side}_msgs_per_s={v}");
                }
            }
        }
        let _ = write!(l, " ratio={ratio}");
        if kafka {
            let rk = r
                .kafka_ratio()
                .map(|x| format!("{x:.3}"))
                .unwrap_or_else(|| "n/a".into());
            let _ = write!(l, " ratio_kafka={rk}");
        }
        for (side, o) in &sides {
            if let Outcome::Measured(m) = o {
                if let Some([a, b, c]) = m.latency_ms {
                    let _ = write!(
                        l,
                        " {side}_p50_ms={a:.3} {side}_p99_ms={b:.3} {side}_p999_ms={c:.3}"
                    );
                }
                if matches!(r.family, Family::Produce | Family::Consume | Family::Fsync) {
                    let _ = write!(l, " {side}_mb_per_s={:.2}", m.mb_per_s);
                    if m.broker_cpu_s.is_some() {
                        let _ = write!(
                            l,
                            " {side}_broker_cpu_s_per_gb={}",
                            cpu_per_gb(m, m.broker_cpu_s)
                        );
                    }
                    if m.client_cpu_s.is_some() {
                        let _ = write!(
                            l,
                            " {side}_client_cpu_s_per_gb={}",
                            cpu_per_gb(m, m.client_cpu_s)
                        );
                    }
                }
                if m.expected > 0 {
                    let _ = write!(l, " {side}_messages={}/{}", m.arrived, m.expected);
                }
                for (k, v) in &m.fields {
                    let _ = write!(l, " {side}_{k}={v}");
                }
            }
        }
        lines.push(l);
    }
    lines
}

/// A one-line summary for progress output.
pub fn summary(r: &ScenarioResult, kafka: bool) -> String {
    let side = |o: &Outcome| match o {
        Outcome::Measured(m) => match (m.latency_ms, m.value) {
            (Some([a, b, c]), _) => format!("p50 {a:.2} p99 {b:.2} p999 {c:.2} ms"),
            (None, Some((unit, v))) => format!("{v:.2} {unit}"),
            _ => format!("{} msg/s", fmt_int(m.msgs_per_s)),
        },
        Outcome::Skipped(why) => format!("skipped ({why})"),
        Outcome::Failed(e) => format!("FAILED: {}", e.lines().next().unwrap_or("")),
        Outcome::NotApplicable => "n/a".into(),
    };
    if kafka {
        format!(
            "{}: skiff {} | kafka {} | mock {} | skiff/kafka {} | skiff/mock {}",
            r.name,
            side(&r.skiff),
            side(&r.kafka),
            side(&r.mock),
            kafka_ratio_cell(r),
            ratio_cell(r)
        )
    } else {
        format!(
            "{}: skiff {} | mock {} | ratio {}",
            r.name,
            side(&r.skiff),
            side(&r.mock),
            ratio_cell(r)
        )
    }
}

// ---------------------------------------------------------------------------
// SVG
// ---------------------------------------------------------------------------

const SKIFF_COLOR: &str = "#1f77b4";
const MOCK_COLOR: &str = "#9a9a9a";
const KAFKA_COLOR: &str = "#e07b00";

/// Whether any result has a Kafka figure (then the charts get its bars).
fn has_kafka(results: &[ScenarioResult]) -> bool {
    results.iter().any(|r| r.kafka.measured().is_some())
}

/// The bars of one row: (outcome, colour), Skiff first.
fn bar_sides(r: &ScenarioResult, kafka: bool) -> Vec<(&'static str, &Outcome, &'static str)> {
    let mut v = vec![("skiff", &r.skiff, SKIFF_COLOR)];
    if kafka {
        v.push(("kafka", &r.kafka, KAFKA_COLOR));
    }
    v.push(("mock", &r.mock, MOCK_COLOR));
    v
}

fn svg_open(w: u32, h: u32, title: &str, kafka: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="monospace" font-size="11">"#
    );
    let _ = writeln!(s, r##"<rect width="{w}" height="{h}" fill="#ffffff"/>"##);
    let _ = writeln!(
        s,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">{}</text>"#,
        esc(title)
    );
    let _ = writeln!(
        s,
        r#"<rect x="10" y="30" width="12" height="10" fill="{SKIFF_COLOR}"/><text x="26" y="39">Skiff</text><rect x="80" y="30" width="12" height="10" fill="{MOCK_COLOR}"/><text x="96" y="39">librdkafka mock cluster</text>"#
    );
    if kafka {
        let _ = writeln!(
            s,
            r#"<rect x="290" y="30" width="12" height="10" fill="{KAFKA_COLOR}"/><text x="306" y="39">Apache Kafka</text>"#
        );
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Throughput per scenario (produce, consume, fsync), Skiff next to Kafka
/// (when a peer) and the mock, with the ratios at the right. None when
/// there is nothing to plot.
pub fn svg_throughput(results: &[ScenarioResult]) -> Option<String> {
    let kafka = has_kafka(results);
    let rows: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| matches!(r.family, Family::Produce | Family::Consume | Family::Fsync))
        .filter(|r| {
            r.skiff.measured().is_some()
                || r.kafka.measured().is_some()
                || r.mock.measured().is_some()
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let max = rows
        .iter()
        .flat_map(|r| [r.skiff.measured(), r.kafka.measured(), r.mock.measured()])
        .flatten()
        .map(|m| m.msgs_per_s)
        .fold(1.0, f64::max);
    // Round the axis to a 1/2/5 x 10^k step, about five ticks.
    let raw_step = max / 5.0;
    let magnitude = 10f64.powf(raw_step.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw_step)
        .unwrap_or(raw_step);
    let ticks = (max / step).ceil().max(1.0) as usize;
    let max = step * ticks as f64;
    let nbars = if kafka { 3.0 } else { 2.0 };
    let (left, bar_w, row_h, top) = (240.0, 560.0, 4.0 + 11.0 * nbars, 70.0);
    let width = if kafka { 1040u32 } else { 960u32 };
    let height = (top + row_h * rows.len() as f64 + 30.0) as u32;
    let title = if kafka {
        "skiff-bench: throughput (messages/s), Skiff vs Apache Kafka vs librdkafka mock"
    } else {
        "skiff-bench: throughput (messages/s), Skiff vs librdkafka mock"
    };
    let mut s = svg_open(width, height, title, kafka);
    for i in 0..=ticks {
        let v = step * i as f64;
        let x = left + bar_w * v / max;
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#e0e0e0"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#666">{}</text>"##,
            top - 8.0,
            top + row_h * rows.len() as f64,
            top - 12.0,
            fmt_short(v)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + 15.0,
            esc(&r.name)
        );
        for (k, (_, o, color)) in bar_sides(r, kafka).into_iter().enumerate() {
            let by = y + 2.0 + 11.0 * k as f64;
            match o.measured() {
                Some(m) => {
                    let w = (m.msgs_per_s / max * bar_w).max(1.0);
                    let _ = writeln!(
                        s,
                        r#"<rect x="{left}" y="{by:.1}" width="{w:.1}" height="10" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="9">{}</text>"#,
                        left + w + 4.0,
                        by + 9.0,
                        fmt_short(m.msgs_per_s)
                    );
                }
                None => {
                    let label = match o {
                        Outcome::Skipped(_) => "skipped",
                        Outcome::Failed(_) => "failed",
                        _ => "n/a",
                    };
                    let _ = writeln!(
                        s,
                        r##"<text x="{:.1}" y="{:.1}" font-size="9" fill="#999">{label}</text>"##,
                        left + 4.0,
                        by + 9.0
                    );
                }
            }
        }
        // The ratios Skiff/Kafka (when a peer) and Skiff/mock, one per line.
        let ratios: Vec<(&str, Option<f64>)> = if kafka {
            vec![("kafka", r.kafka_ratio()), ("mock", r.ratio())]
        } else {
            vec![("", r.ratio())]
        };
        for (k, (vs, x)) in ratios.into_iter().enumerate() {
            if let Some(x) = x {
                let color = if x >= 0.9 { "#2a8a2a" } else { "#c03030" };
                let label = if vs.is_empty() {
                    format!("{x:.2}x")
                } else {
                    format!("{x:.2}x vs {vs}")
                };
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" fill="{color}">{label}</text>"#,
                    left + bar_w + 90.0,
                    y + 12.0 + 12.0 * k as f64
                );
            }
        }
    }
    s.push_str("</svg>\n");
    Some(s)
}

/// End-to-end latency percentiles per latency scenario, log scale.
pub fn svg_latency(results: &[ScenarioResult]) -> Option<String> {
    let kafka = has_kafka(results);
    let rows: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| r.family == Family::Latency)
        .filter(|r| {
            r.skiff.measured().is_some()
                || r.kafka.measured().is_some()
                || r.mock.measured().is_some()
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let vals: Vec<f64> = rows
        .iter()
        .flat_map(|r| [r.skiff.measured(), r.kafka.measured(), r.mock.measured()])
        .flatten()
        .filter_map(|m| m.latency_ms)
        .flatten()
        .collect();
    let lo = 0.1f64;
    let hi = 10f64.powf(
        vals.iter()
            .cloned()
            .fold(1.0, f64::max)
            .log10()
            .ceil()
            .max(1.0),
    );
    let (left, bar_w, top) = (240.0, 560.0, 70.0);
    let nsides = if kafka { 3.0 } else { 2.0 };
    let group_h = 3.0 * nsides * 11.0 + 12.0;
    let width = 900u32;
    let height = (top + group_h * rows.len() as f64 + 30.0) as u32;
    let mut s = svg_open(
        width,
        height,
        "skiff-bench: end-to-end latency p50 / p99 / p999 (ms, log scale)",
        kafka,
    );
    let pos = |v: f64| left + bar_w * ((v.max(lo) / lo).log10() / (hi / lo).log10());
    let mut t = lo;
    while t <= hi * 1.0001 {
        let x = pos(t);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#e0e0e0"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#666">{}</text>"##,
            top - 8.0,
            top + group_h * rows.len() as f64,
            top - 12.0,
            if t < 1.0 {
                format!("{t:.1}")
            } else {
                format!("{t:.0}")
            }
        );
        t *= 10.0;
    }
    for (i, r) in rows.iter().enumerate() {
        let y0 = top + group_h * i as f64;
        let _ = writeln!(
            s,
            r#"<text x="10" y="{:.1}" font-weight="bold">{}</text>"#,
            y0 + 10.0,
            esc(&r.name)
        );
        let mut k = 0;
        for (side, o, color) in bar_sides(r, kafka) {
            for (j, label) in ["p50", "p99", "p999"].iter().enumerate() {
                let by = y0 + 12.0 + 11.0 * k as f64;
                k += 1;
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="9">{side} {label}</text>"#,
                    left - 6.0,
                    by + 9.0
                );
                if let Some(v) = o.measured().and_then(|m| m.latency_ms).map(|p| p[j]) {
                    let w = (pos(v) - left).max(1.0);
                    let _ = writeln!(
                        s,
                        r#"<rect x="{left}" y="{by:.1}" width="{w:.1}" height="9" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="9">{v:.2}</text>"#,
                        left + w + 4.0,
                        by + 8.0
                    );
                }
            }
        }
    }
    s.push_str("</svg>\n");
    Some(s)
}
