//! The evaluation report as people and tools read it: a Markdown table of the main split, one
//! of NDCG@10 on every variant side by side, the JSON, and an SVG chart of the curves.

use super::report::{EvalReport, ModelRow};
use crate::eval::K_MAX;

impl EvalReport {
    /// A Markdown table, one row per model.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{} — folds {:?} (mean)\n\n| model | RMSE | MAE | P@10 | R@10 | NDCG@10 | coverage@10 | users | train s | fold-in+rank ms |\n|---|---|---|---|---|---|---|---|---|---|\n",
            self.dataset, self.folds
        );
        for m in &self.models {
            let x = &m.metrics;
            s += &format!(
                "| {}{} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.3} | {} | {:.1} | {:.3} |\n",
                m.name,
                if m.shipped { " **(shipped)**" } else { "" },
                x.rmse,
                x.mae,
                x.precision,
                x.recall,
                x.ndcg,
                x.coverage,
                x.users,
                m.train_s,
                x.foldin_rank_ms
            );
        }
        s
    }

    /// NDCG@10 of every row on the main split and each variant, side by side; the variants'
    /// 95% bootstrap intervals over users in brackets.
    pub fn variants_table(&self) -> String {
        let mut s = format!(
            "{} — NDCG@10 by variant (main and short: folds {:?}; future: cuts at 0.6, 0.7, 0.8 of time; past: the users who arrived in the first 10% of it)\n\n| model | main | short-5 | short-20 | future | past | users (main / short / future / past) |\n|---|---|---|---|---|---|---|\n",
            self.dataset, self.folds
        );
        for m in &self.models {
            let cell = |v: &str| match m.variants.get(v) {
                Some(f) => format!("{:.4} [{:.3}, {:.3}]", f.ndcg, f.ndcg_ci95[0], f.ndcg_ci95[1]),
                None => "–".into(),
            };
            let users = |v: &str| m.variants.get(v).map_or("–".into(), |f| f.users.to_string());
            s += &format!(
                "| {}{} | {:.4} | {} | {} | {} | {} | {} / {} / {} / {} |\n",
                m.name,
                if m.shipped { " **(shipped)**" } else { "" },
                m.metrics.ndcg,
                cell("short-5"),
                cell("short-20"),
                cell("future"),
                cell("past"),
                m.metrics.users,
                users("short-5"),
                users("future"),
                users("past")
            );
        }
        s
    }

    /// The report as pretty JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serialises")
    }

    /// An SVG chart: NDCG@k and recall@k for k = 1..=50, one line per model.
    pub fn svg(&self) -> String {
        const COLOURS: [&str; 8] = ["#888888", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];
        let (w, h, pad) = (460.0, 300.0, 44.0);
        let panel = |title: &str, x0: f64, curve: &dyn Fn(&ModelRow) -> &Vec<f64>| {
            let ymax = self.models.iter().flat_map(|m| curve(m).iter().copied()).fold(0.0f64, f64::max).max(1e-9) * 1.1;
            let px = |k: usize| x0 + pad + (k as f64 - 1.0) / (K_MAX as f64 - 1.0) * (w - 2.0 * pad);
            let py = |v: f64| h - pad - v / ymax * (h - 2.0 * pad);
            let mut g = format!(
                "<text x=\"{}\" y=\"20\" font-size=\"14\" text-anchor=\"middle\">{title}</text>\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\"/>\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\"/>\n",
                x0 + w / 2.0, px(1), py(0.0), px(K_MAX), py(0.0), px(1), py(0.0), px(1), py(ymax)
            );
            for k in [1, 10, 20, 30, 40, 50] {
                g += &format!("<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{k}</text>\n", px(k), py(0.0) + 14.0);
            }
            for i in 0..=4 {
                let v = ymax * i as f64 / 4.0;
                g += &format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{v:.2}</text>\n",
                    px(1) - 4.0,
                    py(v) + 3.0
                );
            }
            g += &format!("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">k</text>\n", x0 + w / 2.0, h - 8.0);
            for (i, m) in self.models.iter().enumerate() {
                let pts: Vec<String> = curve(m).iter().enumerate().map(|(k, &v)| format!("{:.1},{:.1}", px(k + 1), py(v))).collect();
                g += &format!(
                    "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" points=\"{}\"/>\n",
                    COLOURS[i % COLOURS.len()],
                    if m.shipped { 2.5 } else { 1.5 },
                    pts.join(" ")
                );
            }
            g
        };
        let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n", 2.0 * w, h + 20.0 * self.models.len() as f64 + 10.0);
        svg += &panel(&format!("NDCG@k — {}", xml_escape(&self.dataset)), 0.0, &|m| &m.metrics.ndcg_curve);
        svg += &panel(&format!("Recall@k — {}", xml_escape(&self.dataset)), w, &|m| &m.metrics.recall_curve);
        for (i, m) in self.models.iter().enumerate() {
            let y = h + 14.0 + 20.0 * i as f64;
            svg += &format!(
                "<line x1=\"{pad}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{}\" stroke-width=\"3\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}{}</text>\n",
                pad + 24.0, COLOURS[i % COLOURS.len()], pad + 30.0, y + 4.0, xml_escape(&m.name), if m.shipped { " (shipped)" } else { "" }
            );
        }
        svg + "</svg>\n"
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
