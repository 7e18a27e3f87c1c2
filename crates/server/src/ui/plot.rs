//! The fuel plot: fuel against n on log-log axes, drawn as SVG on the
//! server. The measured points, the fitted class's curve, dashed guides for
//! O(n), O(n log n) and O(n²) through the first point, and a legend naming
//! the fitted and expected classes.

use std::fmt::Write as _;

use fuelbench_complexity::{Class, ClassFit, Sample};

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 340.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;

/// The guides drawn through the first point.
const GUIDES: [Class; 3] = [Class::Linear, Class::NLogN, Class::Quadratic];

/// What to draw: the series and its fit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FuelPlot<'a> {
    pub samples: &'a [Sample],
    pub fitted: Option<&'a ClassFit>,
    pub expected: Class,
}

/// `value` as SVG text: nothing in it can open a tag.
fn escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Labels for powers of ten: `1`, `10`, `100`, `1k`, ... `100G`, then `1e12`.
fn power_label(exponent: i32) -> String {
    let units = ["", "k", "M", "G"];
    match usize::try_from(exponent) {
        Ok(e) if e / 3 < units.len() => format!("{}{}", 10u64.pow((e % 3) as u32), units[e / 3]),
        _ => format!("1e{exponent}"),
    }
}

impl FuelPlot<'_> {
    /// The SVG document; `None` when there is nothing to plot (no sample
    /// with a positive n and cost).
    pub(crate) fn svg(&self) -> Option<String> {
        let points: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter(|s| s.n > 0 && s.cost > 0.0)
            .map(|s| (s.n as f64, s.cost))
            .collect();
        let &(n0, c0) = points.first()?;
        let (mut x_min, mut x_max) = (n0.log10(), n0.log10());
        let (mut y_min, mut y_max) = (c0.log10(), c0.log10());
        for &(n, c) in &points {
            x_min = x_min.min(n.log10());
            x_max = x_max.max(n.log10());
            y_min = y_min.min(c.log10());
            y_max = y_max.max(c.log10());
        }
        // Whole decades, at least one wide, so the guides have room.
        let x_lo = x_min.floor();
        let x_hi = x_max.ceil().max(x_lo + 1.0);
        let y_lo = y_min.floor();
        let y_hi = y_max.ceil().max(y_lo + 1.0);
        let x = |n: f64| LEFT + (n.log10() - x_lo) / (x_hi - x_lo) * (WIDTH - LEFT - RIGHT);
        let y = |c: f64| TOP + (y_hi - c.log10()) / (y_hi - y_lo) * (HEIGHT - TOP - BOTTOM);
        let inside = |c: f64| c > 0.0 && c.log10() >= y_lo && c.log10() <= y_hi;

        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg class="fuel-plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="fuel-plot-title"><title id="fuel-plot-title">Fuel against n, log-log: fitted {}, expected {}</title>"#,
            escape(self.fitted.map_or("none", |fit| fit.class.notation())),
            escape(self.expected.notation())
        );
        // Axes and decade ticks.
        let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
        let _ = write!(
            svg,
            r#"<g class="axes"><line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}"/>"#
        );
        for exponent in x_lo as i32..=x_hi as i32 {
            let px = x(10f64.powi(exponent));
            let _ = write!(
                svg,
                r#"<line class="grid" x1="{px:.1}" y1="{y0}" x2="{px:.1}" y2="{y1}"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                y1 + 16.0,
                power_label(exponent)
            );
        }
        for exponent in y_lo as i32..=y_hi as i32 {
            let py = y(10f64.powi(exponent));
            let _ = write!(
                svg,
                r#"<line class="grid" x1="{x0}" y1="{py:.1}" x2="{x1}" y2="{py:.1}"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                x0 - 6.0,
                py + 4.0,
                power_label(exponent)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">n</text><text x="14" y="{:.1}" text-anchor="middle" transform="rotate(-90 14 {:.1})">fuel</text></g>"#,
            (x0 + x1) / 2.0,
            HEIGHT - 6.0,
            (y0 + y1) / 2.0,
            (y0 + y1) / 2.0
        );

        // A curve sampled along n, drawn only where it is inside the plot.
        let steps = 48;
        let curve = |cost: &dyn Fn(f64) -> Option<f64>| -> String {
            let mut path = String::new();
            let mut pen_down = false;
            for step in 0..=steps {
                let exponent = x_lo + (x_hi - x_lo) * step as f64 / steps as f64;
                let n = 10f64.powf(exponent);
                match cost(n).filter(|&c| inside(c)) {
                    Some(c) => {
                        let _ = write!(
                            path,
                            "{}{:.1},{:.1} ",
                            if pen_down { "L" } else { "M" },
                            x(n),
                            y(c)
                        );
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            path
        };
        for class in GUIDES {
            let Some(g0) = class.growth(n0).filter(|g| *g > 0.0) else {
                continue;
            };
            let path = curve(&|n| Some(c0 * class.growth(n)? / g0));
            if !path.is_empty() {
                let _ = write!(
                    svg,
                    r#"<path class="guide" data-class="{}" d="{}"/>"#,
                    class.name(),
                    path.trim_end()
                );
            }
        }
        if let Some(fit) = self.fitted {
            let path = curve(&|n| fit.predict(n));
            if !path.is_empty() {
                let _ = write!(
                    svg,
                    r#"<path class="fit" data-class="{}" d="{}"/>"#,
                    fit.class.name(),
                    path.trim_end()
                );
            }
        }
        for &(n, c) in &points {
            let _ = write!(
                svg,
                r#"<circle class="point" data-n="{}" data-fuel="{}" cx="{:.1}" cy="{:.1}" r="4"><title>n = {} · fuel {}</title></circle>"#,
                n as u64,
                c as u64,
                x(n),
                y(c),
                n as u64,
                c as u64
            );
        }

        // The legend, top left.
        let fitted = self.fitted.map_or("not fitted".to_owned(), |fit| {
            format!("fitted {}", fit.class.notation())
        });
        let entries = [
            ("point", "measured".to_owned()),
            (if self.fitted.is_some() { "fit" } else { "" }, fitted),
            ("guide", format!("expected {}", self.expected.notation())),
            ("guide", "guides O(n), O(n log n), O(n^2)".to_owned()),
        ];
        let _ = write!(svg, r#"<g class="legend">"#);
        for (index, (class, text)) in entries.iter().enumerate().take(3) {
            let ly = TOP + 12.0 + 16.0 * index as f64;
            let lx = LEFT + 12.0;
            let mark = match *class {
                "" => String::new(),
                "point" => format!(
                    r#"<circle class="point" cx="{:.1}" cy="{:.1}" r="4"/>"#,
                    lx + 8.0,
                    ly - 4.0
                ),
                other => format!(
                    r#"<line class="{other}" x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
                    ly - 4.0,
                    lx + 16.0,
                    ly - 4.0
                ),
            };
            let _ = write!(
                svg,
                r#"{mark}<text x="{:.1}" y="{ly:.1}">{}</text>"#,
                lx + 22.0,
                escape(text)
            );
        }
        let _ = write!(
            svg,
            r#"<text class="caption" x="{:.1}" y="{:.1}">dashed: {}</text></g></svg>"#,
            LEFT + 12.0,
            TOP + 12.0 + 48.0,
            escape(&entries[3].1["guides ".len()..])
        );
        Some(svg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(cost: impl Fn(f64) -> f64) -> Vec<Sample> {
        [100u64, 1_000, 10_000, 100_000]
            .iter()
            .map(|&n| Sample {
                n,
                cost: cost(n as f64),
            })
            .collect()
    }

    fn attribute<'a>(element: &'a str, name: &str) -> &'a str {
        let start = element.find(&format!(" {name}=\"")).expect("the attribute") + name.len() + 3;
        let rest = &element[start..];
        &rest[..rest.find('"').expect("closed")]
    }

    #[test]
    fn every_sample_is_a_point_placed_on_log_log_axes() {
        let series = samples(|n| 50.0 * n);
        let fit = ClassFit {
            class: Class::Linear,
            intercept: 0.0,
            coefficient: 50.0,
            lower_coefficient: 0.0,
            linear_coefficient: 0.0,
            log_residual: 0.0,
        };
        let svg = FuelPlot {
            samples: &series,
            fitted: Some(&fit),
            expected: Class::Linear,
        }
        .svg()
        .expect("a plot");
        let points: Vec<&str> = svg
            .split("<circle class=\"point\" data-n=")
            .skip(1)
            .collect();
        assert_eq!(points.len(), 4);
        // Equal steps in log n are equal steps in x, and a linear series is
        // a straight line: equal steps in y too.
        let xs: Vec<f64> = points
            .iter()
            .map(|p| attribute(p, "cx").parse().expect("a number"))
            .collect();
        let ys: Vec<f64> = points
            .iter()
            .map(|p| attribute(p, "cy").parse().expect("a number"))
            .collect();
        for pair in xs.windows(3) {
            assert!(
                ((pair[1] - pair[0]) - (pair[2] - pair[1])).abs() < 0.2,
                "{xs:?}"
            );
        }
        for pair in ys.windows(3) {
            assert!(
                ((pair[1] - pair[0]) - (pair[2] - pair[1])).abs() < 0.2,
                "{ys:?}"
            );
        }
        assert!(ys[0] > ys[3], "more fuel is higher up");
        assert!(svg.contains(r#"data-n="1000" data-fuel="50000""#));
        assert!(svg.contains(r#"<path class="fit" data-class="linear""#));
        for class in ["linear", "n_log_n", "quadratic"] {
            assert!(
                svg.contains(&format!(r#"<path class="guide" data-class="{class}""#)),
                "{class}"
            );
        }
        assert!(svg.contains("fitted O(n)") && svg.contains("expected O(n)"));
    }

    #[test]
    fn nothing_to_plot_is_no_plot_and_text_is_escaped() {
        let plot = FuelPlot {
            samples: &[],
            fitted: None,
            expected: Class::Quadratic,
        };
        assert!(plot.svg().is_none());
        let series = samples(|n| n * n);
        let svg = FuelPlot {
            samples: &series,
            fitted: None,
            expected: Class::Quadratic,
        }
        .svg()
        .expect("a plot");
        assert!(svg.contains("not fitted"));
        assert!(!svg.contains("class=\"fit\""), "no curve, no legend line");
        assert_eq!(escape("<script>&\""), "&lt;script&gt;&amp;&quot;");
        let labels: Vec<String> = [0, 1, 3, 5, 7, 9, 12].map(power_label).into();
        assert_eq!(labels, ["1", "10", "1k", "100k", "10M", "1G", "1e12"]);
    }
}
