//! The ratio rows as an SVG chart, drawn by gnuplot (Debian: gnuplot-nox):
//! for each row, siptls' median over each other stack's, on a log scale
//! around 1 (above the line: siptls is ahead).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::STACKS;

/// A row's name short enough to stand level under its bars.
fn label(name: &str) -> String {
    let mut short = name.replace("first-contact full", "first contact");
    for (long, brief) in [
        (" handshakes", ""),
        ("TLS ", ""),
        (" P-256", ""),
        ("-2048", ""),
        (",", ""),
        (" writes", ""),
        ("read with nothing waiting (one call)", "one call"),
    ] {
        short = short.replace(long, brief);
    }
    short
}

/// Writes `path` from `rows` (a name and siptls' ratio to each of the
/// other stacks, in the order of STACKS[1..]).
pub fn ratio_chart(rows: &[(String, [f64; 3])], title: &str, path: &Path) -> Result<(), String> {
    let data = path.with_extension("dat");
    let mut text = String::from("# row, then siptls / each other stack (median over median)\n");
    for (name, ratios) in rows {
        // gnuplot reads a quoted string as one column.
        text += &format!("\"{}\"", label(name).replace('"', "'"));
        for ratio in ratios {
            text += &if ratio.is_finite() {
                format!(" {ratio:.4}")
            } else {
                " NaN".into()
            };
        }
        text.push('\n');
    }
    std::fs::write(&data, text).map_err(|e| format!("cannot write {}: {e}", data.display()))?;
    let versus: Vec<String> = STACKS[1..]
        .iter()
        .map(|s| format!("siptls / {s}"))
        .collect();
    let script = format!(
        r#"set terminal svg size 1400,480 dynamic font "sans,11"
set output "{out}"
set title "{title}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 2
set ytics (0.125, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8)
set yrange [0.1:10]
set grid ytics
set ylabel "median ratio (above 1: siptls ahead)"
set xtics font "sans,8" nomirror
set key top left box opaque
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 1.5 dt 2 front
plot "{data}" using 2:xtic(1) title "{v0}", "" using 3 title "{v1}", "" using 4 title "{v2}"
"#,
        out = path.display(),
        data = data.display(),
        v0 = versus[0],
        v1 = versus[1],
        v2 = versus[2],
    );
    let mut gnuplot = Command::new("gnuplot")
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run gnuplot ({e}); install it (Debian: gnuplot-nox)"))?;
    gnuplot
        .stdin
        .take()
        .expect("piped")
        .write_all(script.as_bytes())
        .map_err(|e| format!("cannot talk to gnuplot: {e}"))?;
    match gnuplot.wait() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("gnuplot failed ({status})")),
        Err(e) => Err(format!("gnuplot did not finish: {e}")),
    }
}
