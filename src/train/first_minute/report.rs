//! The first-minute report's renderings: Markdown tables, JSON and an SVG of two charts.

use super::FirstMinute;
use crate::eval::elicitation::{Stop, MAX_ASKED};

impl FirstMinute {
    /// Markdown tables: NDCG@10 (answered) by strategy and questions; the trade-off curves.
    pub fn table(&self) -> String {
        let mut s = format!("{} — first minute: NDCG@10 [95% interval] (questions answered) after k questions\n\n| split | strategy | k 3 | k 5 | k 10 | k 20 |\n|---|---|---|---|---|---|\n", self.dataset);
        let mut keys: Vec<(&str, &str)> = Vec::new();
        for r in &self.elicitation {
            if !keys.contains(&(r.split.as_str(), r.strategy.as_str())) {
                keys.push((r.split.as_str(), r.strategy.as_str()));
            }
        }
        let row = |split: &str, strategy: &str, answers: bool| -> String {
            let cells: Vec<String> = self
                .elicitation
                .iter()
                .filter(|r| r.split == split && r.strategy == strategy && matches!(r.stop, Stop::Answered(_)) == answers)
                .map(|r| {
                    let count = if answers { r.asked } else { r.answered };
                    format!("{:.4} [{:.3}, {:.3}] ({count:.1})", r.ndcg, r.ndcg_ci95[0], r.ndcg_ci95[1])
                })
                .collect();
            format!("| {split} | {strategy} | {} |\n", cells.join(" | "))
        };
        for &(split, strategy) in &keys {
            s += &row(split, strategy, false);
        }
        s += &format!("\nThe same once n questions were answered: NDCG@10 [95% interval] (questions asked; at most {MAX_ASKED})\n\n| split | strategy | n 3 | n 5 | n 10 |\n|---|---|---|---|---|\n");
        for &(split, strategy) in &keys {
            s += &row(split, strategy, true);
        }
        s += "\nAgainst popular-first, user by user, once n questions were answered: NDCG@10 difference [95% interval]\n\n| split | strategy | n 3 | n 5 | n 10 |\n|---|---|---|---|---|\n";
        for &(split, strategy) in &keys {
            let cells: Vec<String> = self
                .elicitation
                .iter()
                .filter(|r| r.split == split && r.strategy == strategy && matches!(r.stop, Stop::Answered(_)))
                .filter_map(|r| r.vs_popular_first.map(|[d, lo, hi]| format!("{d:+.4} [{lo:+.3}, {hi:+.3}]")))
                .collect();
            if !cells.is_empty() {
                s += &format!("| {split} | {strategy} | {} |\n", cells.join(" | "));
            }
        }
        s += "\nFive of the visitor's own movies as the answers, picked by a rule (reference points: most rules need the visitor's history): NDCG@10 [95% interval], and against popular-first once 5 were answered, user by user\n\n| split | five of the visitor's movies | NDCG@10 | against popular-first |\n|---|---|---|---|\n";
        for r in &self.five_of {
            let vs = r.vs_popular_first.map_or("–".to_string(), |[d, lo, hi]| format!("{d:+.4} [{lo:+.3}, {hi:+.3}]"));
            s += &format!("| {} | {} | {:.4} [{:.3}, {:.3}] | {vs} |\n", r.split, r.rule, r.ndcg, r.ndcg_ci95[0], r.ndcg_ci95[1]);
        }
        s += "\nFamiliar to discover: the control's trade-off\n\n| split | form | discover | NDCG@10 | R@10 | coverage@10 | novelty (bits) | diversity |\n|---|---|---|---|---|---|---|---|\n";
        for r in &self.discovery {
            s += &format!(
                "| {} | {} | {:.1} | {:.4} [{:.3}, {:.3}] | {:.4} | {:.3} | {:.2} | {:.3} |\n",
                r.split, r.form, r.discover, r.ndcg, r.ndcg_ci95[0], r.ndcg_ci95[1], r.recall, r.coverage, r.novelty, r.diversity
            );
        }
        s += "\nMovie night: one list for a synthetic group of held-out users (main split, groups pooled over folds; a majority of 2 is both)\n\n| group | size | aggregation | member NDCG@10, mean | least served member | groups | relevant to all | groups | relevant to a majority | groups |\n|---|---|---|---|---|---|---|---|---|---|\n";
        for r in &self.groups {
            s += &format!(
                "| {} | {} | {} | {:.4} [{:.3}, {:.3}] | {:.4} | {} | {:.4} [{:.3}, {:.3}] | {} | {:.4} [{:.3}, {:.3}] | {} |\n",
                r.grouping,
                r.size,
                r.aggregation,
                r.member_mean,
                r.member_mean_ci95[0],
                r.member_mean_ci95[1],
                r.member_min,
                r.groups,
                r.all,
                r.all_ci95[0],
                r.all_ci95[1],
                r.all_groups,
                r.majority,
                r.majority_ci95[0],
                r.majority_ci95[1],
                r.majority_groups
            );
        }
        s += "\nSeen but not rated: half of each user's given movies lose their stars (hybrid, every given movie excluded from the list)\n\n| split | the seen half | NDCG@10 | users |\n|---|---|---|---|\n";
        for r in &self.seen {
            s += &format!(
                "| {} | {} | {:.4} [{:.3}, {:.3}] | {} |\n",
                r.split, r.treatment, r.ndcg, r.ndcg_ci95[0], r.ndcg_ci95[1], r.users
            );
        }
        s
    }

    /// The report as pretty JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serialises")
    }

    /// Two charts side by side: NDCG@10 against questions asked, one line per strategy and
    /// split; NDCG@10 against novelty, one line per form of the control and split.
    pub fn svg(&self) -> String {
        const COLOURS: [&str; 11] =
            ["#888888", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79"];
        let (w, h, pad) = (460.0, 300.0, 48.0);
        let mut svg = String::new();
        let mut legend: Vec<(String, usize, bool)> = Vec::new();
        let mut panel = |title: &str, x0: f64, lines: Vec<(String, Vec<(f64, f64)>)>, xlabel: &str| {
            let pts = lines.iter().flat_map(|(_, p)| p.iter().copied());
            let (xmin, xmax, ymax) = pts.fold((f64::MAX, f64::MIN, 0.0f64), |(a, b, c), (x, y)| (a.min(x), b.max(x), c.max(y)));
            let ymax = ymax.max(1e-9) * 1.1;
            let span = (xmax - xmin).max(1e-9);
            let px = |x: f64| x0 + pad + (x - xmin) / span * (w - 2.0 * pad);
            let py = |y: f64| h - pad - y / ymax * (h - 2.0 * pad);
            svg += &format!("<text x=\"{}\" y=\"20\" font-size=\"14\" text-anchor=\"middle\">{title}</text>\n", x0 + w / 2.0);
            svg += &format!("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\"/>\n", px(xmin), py(0.0), px(xmax), py(0.0));
            svg += &format!("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\"/>\n", px(xmin), py(0.0), px(xmin), py(ymax));
            for i in 0..=4 {
                let x = xmin + span * i as f64 / 4.0;
                let y = ymax * i as f64 / 4.0;
                svg += &format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{x:.1}</text>\n",
                    px(x),
                    py(0.0) + 14.0
                );
                svg += &format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{y:.3}</text>\n",
                    px(xmin) - 4.0,
                    py(y) + 3.0
                );
            }
            svg += &format!("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{xlabel}</text>\n", x0 + w / 2.0, h - 10.0);
            for (name, p) in lines {
                // One colour per strategy (or form), whatever the split; future dashed.
                let what = name.split_once(' ').map_or(name.as_str(), |(_, w)| w).to_string();
                let i = match legend.iter().position(|l| l.0 == what) {
                    Some(i) => i,
                    None => {
                        legend.push((what, legend.len(), false));
                        legend.len() - 1
                    }
                };
                let dash = if name.starts_with("future") { " stroke-dasharray=\"5,3\"" } else { "" };
                let pts: Vec<String> = p.iter().map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y))).collect();
                svg += &format!(
                    "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"{dash} points=\"{}\"/>\n",
                    COLOURS[i % COLOURS.len()],
                    pts.join(" ")
                );
            }
        };
        let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for r in &self.elicitation {
            let Stop::Asked(k) = r.stop else { continue };
            let name = format!("{} {}", r.split, r.strategy);
            match lines.iter_mut().find(|l| l.0 == name) {
                Some(l) => l.1.push((k as f64, r.ndcg)),
                None => lines.push((name, vec![(k as f64, r.ndcg)])),
            }
        }
        panel("NDCG@10 after k questions", 0.0, lines, "questions asked");
        let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for r in &self.discovery {
            let name = format!("{} {}", r.split, r.form);
            match lines.iter_mut().find(|l| l.0 == name) {
                Some(l) => l.1.push((r.novelty, r.ndcg)),
                None => lines.push((name, vec![(r.novelty, r.ndcg)])),
            }
        }
        panel("NDCG@10 against novelty (discover 0 to 0.8)", w, lines, "mean novelty, bits");
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
            2.0 * w,
            h + 18.0 * (legend.len() + 1) as f64 + 10.0
        );
        out += &svg;
        legend.push(("future visitors (dashed); main split (solid)".into(), usize::MAX, true));
        let rows = legend.len();
        for (name, i, future) in legend {
            let y = h + 12.0 + 18.0 * i.min(rows - 1) as f64;
            let dash = if future { " stroke-dasharray=\"5,3\"" } else { "" };
            let i = if future { 0 } else { i };
            out += &format!(
                "<line x1=\"{pad}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{}\" stroke-width=\"3\"{dash}/><text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>\n",
                pad + 24.0,
                COLOURS[i % COLOURS.len()],
                pad + 30.0,
                y + 4.0,
                name.replace('&', "&amp;").replace('<', "&lt;")
            );
        }
        out + "</svg>\n"
    }
}
