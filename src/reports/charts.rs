//! The report's charts, drawn on the server as SVG so they show without JavaScript. Each
//! chart comes in two sizes, both in CSS pixels with 13–14 px labels: a wide one for screens
//! from 768 px and a narrow one for phones (the page shows one, by a media query), so the
//! labels stay readable instead of shrinking with the picture. Each has a title and a
//! `<desc>` saying what it shows in words, y-axis ticks between 0 and the top, date ticks a
//! week apart, and a tooltip per mark; the page also has the numbers in tables.

use std::fmt::Write;

use chrono::{Datelike, NaiveDate, Weekday};
use keydesk_core::reports::DayFigures;

use super::view::duration_words;

const IN_HOURS: &str = "#2f6fb0";
const OUT_OF_HOURS: &str = "#e0913a";
const TARGET: &str = "#c0392b";
const GRID: &str = "#8888";
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// One drawing size; every length is a CSS pixel at 100% width.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub class: &'static str,
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    font: f64,
    /// At most this many date labels under a chart.
    date_labels: usize,
    /// A label every this many hours under the heat map.
    hour_step: usize,
}

pub const WIDE: Size = Size {
    class: "wide",
    width: 720.0,
    height: 240.0,
    left: 52.0,
    right: 12.0,
    top: 24.0,
    bottom: 28.0,
    font: 13.0,
    date_labels: 10,
    hour_step: 3,
};
pub const NARROW: Size = Size {
    class: "narrow",
    width: 360.0,
    height: 240.0,
    left: 44.0,
    right: 10.0,
    top: 24.0,
    bottom: 28.0,
    font: 14.0,
    date_labels: 4,
    hour_step: 6,
};

/// A chart in both sizes; the page shows the one that fits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Chart {
    pub wide: String,
    pub narrow: String,
}

impl Chart {
    fn both(draw: impl Fn(Size) -> String) -> Chart {
        Chart { wide: draw(WIDE), narrow: draw(NARROW) }
    }
}

/// Round ticks from 0 to at least `max`, about four intervals (1, 2, 2.5 or 5 times a power
/// of ten); whole numbers only when `whole` (ticket counts).
pub fn axis_ticks(max: f64, whole: bool) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 { max } else { 1.0 };
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(raw);
    let step = if whole { step.ceil().max(1.0) } else { step };
    let intervals = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=intervals).map(|i| i as f64 * step).collect()
}

/// Which days get a date label: every day when they fit, otherwise Mondays, every so many
/// weeks so that at most `most` labels are drawn. Indexes into `days`.
pub fn date_ticks(days: &[NaiveDate], most: usize) -> Vec<usize> {
    let most = most.max(1);
    if days.len() <= most {
        return (0..days.len()).collect();
    }
    let mondays: Vec<usize> = (0..days.len()).filter(|i| days[*i].weekday() == Weekday::Mon).collect();
    let every = mondays.len().div_ceil(most).max(1);
    mondays.into_iter().step_by(every).collect()
}

fn number(value: f64) -> String {
    if value.fract().abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// The drawing area with its axes: y ticks with grid lines, the unit above them.
struct Frame {
    svg: String,
    size: Size,
    y_top: f64,
}

impl Frame {
    fn new(size: Size, title: &str, desc: &str, ticks: &[f64], unit: &str) -> Frame {
        let Size { width, height, font, left, top, .. } = size;
        let mut svg = format!(
            r#"<svg class="chart {}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg" font-size="{font}"><title>{title}</title><desc>{desc}</desc>"#,
            size.class
        );
        let y_top = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
        let mut frame = Frame { svg: String::new(), size, y_top };
        for tick in ticks {
            let y = frame.y(*tick);
            let _ = write!(
                svg,
                r#"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                width - size.right,
                if *tick == 0.0 { "#888" } else { GRID },
                left - 6.0,
                y + font * 0.35,
                number(*tick),
            );
        }
        let _ = write!(svg, r#"<text x="4" y="{:.1}">{unit}</text>"#, top - 8.0);
        frame.svg = svg;
        frame
    }

    fn plot_width(&self) -> f64 {
        self.size.width - self.size.left - self.size.right
    }

    fn plot_height(&self) -> f64 {
        self.size.height - self.size.top - self.size.bottom
    }

    fn y(&self, value: f64) -> f64 {
        self.size.top + self.plot_height() - (value / self.y_top).clamp(0.0, 1.0) * self.plot_height()
    }

    /// The slot of one day and its left edge.
    fn slot(&self, days: usize) -> f64 {
        self.plot_width() / days.max(1) as f64
    }

    fn date_labels(&mut self, days: &[DayFigures]) {
        let dates: Vec<NaiveDate> = days.iter().map(|d| d.date).collect();
        let slot = self.slot(days.len());
        let Size { left, top, height, font, .. } = self.size;
        let base = top + self.plot_height();
        let daily = dates.len() <= self.size.date_labels;
        for i in date_ticks(&dates, self.size.date_labels) {
            let x = left + (i as f64 + 0.5) * slot;
            let label =
                if daily { dates[i].format("%a %-d").to_string() } else { dates[i].format("%-d %b").to_string() };
            let _ = write!(
                self.svg,
                r##"<line x1="{x:.1}" y1="{base:.1}" x2="{x:.1}" y2="{:.1}" stroke="#888"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
                base + 4.0,
                height - font * 0.6,
            );
        }
    }

    fn finish(mut self) -> String {
        self.svg.push_str("</svg>");
        self.svg
    }
}

fn range_words(days: &[DayFigures]) -> String {
    match (days.first(), days.last()) {
        (Some(first), Some(last)) => format!("From {} to {}", first.date, last.date),
        _ => "No days in the range".to_owned(),
    }
}

/// Tickets received per day, in working hours (blue) and out of them (orange), stacked.
pub fn volume(days: &[DayFigures]) -> Chart {
    let total = |d: &DayFigures| d.received_in_hours + d.received_out_of_hours;
    let max = days.iter().map(|d| f64::from(total(d))).fold(0.0, f64::max);
    let (inside, outside) =
        days.iter().fold((0u32, 0u32), |(i, o), d| (i + d.received_in_hours, o + d.received_out_of_hours));
    let busiest = days.iter().max_by_key(|d| (total(d), std::cmp::Reverse(d.date)));
    let desc = format!(
        "{}: {} tickets received, {inside} in working hours and {outside} out of hours{}.",
        range_words(days),
        inside + outside,
        busiest
            .filter(|d| total(d) > 0)
            .map(|d| format!("; the busiest day was {} with {}", d.date, total(d)))
            .unwrap_or_default(),
    );
    let ticks = axis_ticks(max, true);
    Chart::both(|size| {
        let mut frame =
            Frame::new(size, "Tickets received per day, in and out of working hours", &desc, &ticks, "tickets");
        let slot = frame.slot(days.len());
        let bar = (slot * 0.8).max(0.5);
        let base = frame.y(0.0);
        for (i, day) in days.iter().enumerate() {
            let x = size.left + i as f64 * slot + (slot - bar) / 2.0;
            let (inside, outside) = (f64::from(day.received_in_hours), f64::from(day.received_out_of_hours));
            let (y_in, y_top) = (frame.y(inside), frame.y(inside + outside));
            let _ = write!(
                frame.svg,
                r#"<g><title>{}: {} in hours, {} out of hours</title><rect x="{x:.1}" y="{y_in:.1}" width="{bar:.1}" height="{:.1}" fill="{IN_HOURS}"/><rect x="{x:.1}" y="{y_top:.1}" width="{bar:.1}" height="{:.1}" fill="{OUT_OF_HOURS}"/></g>"#,
                day.date,
                day.received_in_hours,
                day.received_out_of_hours,
                base - y_in,
                y_in - y_top,
            );
        }
        frame.date_labels(days);
        frame.finish()
    })
}

/// The median and 90th percentile time to unlock (business hours) of each day's tickets,
/// against the target.
pub fn unlock_times(days: &[DayFigures], target_seconds: i64) -> Chart {
    let hours = |seconds: i64| seconds as f64 / 3600.0;
    let max = days
        .iter()
        .filter_map(|d| d.unlock_business_seconds.p90)
        .map(hours)
        .fold(hours(target_seconds) * 1.25, f64::max);
    let medians: Vec<(&DayFigures, i64)> =
        days.iter().filter_map(|d| d.unlock_business_seconds.median.map(|m| (d, m))).collect();
    let over = medians.iter().filter(|(_, m)| *m > target_seconds).count();
    let desc = match (medians.iter().map(|(_, m)| *m).min(), medians.iter().map(|(_, m)| *m).max()) {
        (Some(low), Some(high)) => format!(
            "{}: the median time to unlock of a day's tickets ranged from {} to {}; the target is {}; on {over} of {} days the median was over it.",
            range_words(days),
            duration_words(Some(low)),
            duration_words(Some(high)),
            duration_words(Some(target_seconds)),
            medians.len(),
        ),
        _ => format!(
            "{}: no ticket was unlocked; the target is {}.",
            range_words(days),
            duration_words(Some(target_seconds))
        ),
    };
    let ticks = axis_ticks(max, false);
    Chart::both(|size| {
        let mut frame = Frame::new(
            size,
            "Time to unlock per day (business hours): median, 90th percentile and the target",
            &desc,
            &ticks,
            "hours",
        );
        let slot = frame.slot(days.len());
        let x = |i: usize| size.left + (i as f64 + 0.5) * slot;
        for (series, colour, width) in [("90th percentile", "#9bb7d4", 1.5), ("median", IN_HOURS, 2.5)] {
            let mut points = String::new();
            for (i, day) in days.iter().enumerate() {
                let figures = day.unlock_business_seconds;
                if let Some(value) = if series == "median" { figures.median } else { figures.p90 } {
                    let _ = write!(points, "{:.1},{:.1} ", x(i), frame.y(hours(value)));
                }
            }
            let _ = write!(
                frame.svg,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="{width}"><title>{series}</title></polyline>"#,
                points.trim_end()
            );
        }
        for (i, day) in days.iter().enumerate() {
            if let Some(median) = day.unlock_business_seconds.median {
                let _ = write!(
                    frame.svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{IN_HOURS}"><title>{}: median {}, 90th percentile {}</title></circle>"#,
                    x(i),
                    frame.y(hours(median)),
                    day.date,
                    duration_words(Some(median)),
                    duration_words(day.unlock_business_seconds.p90),
                );
            }
        }
        let y = frame.y(hours(target_seconds));
        let _ = write!(
            frame.svg,
            r#"<line x1="{}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="6 4"><title>target {}</title></line>"#,
            size.left,
            size.width - size.right,
            duration_words(Some(target_seconds)),
        );
        frame.date_labels(days);
        frame.finish()
    })
}

/// Open tickets at the end of each day.
pub fn backlog(days: &[DayFigures]) -> Chart {
    let max = days.iter().map(|d| f64::from(d.backlog_at_end)).fold(0.0, f64::max);
    let highest = days.iter().max_by_key(|d| (d.backlog_at_end, std::cmp::Reverse(d.date)));
    let desc = match (days.first(), days.last(), highest) {
        (Some(first), Some(last), Some(high)) => format!(
            "{}: {} open at the end of the first day, {} at the end of the last; the most was {} on {}.",
            range_words(days),
            first.backlog_at_end,
            last.backlog_at_end,
            high.backlog_at_end,
            high.date
        ),
        _ => "No days in the range.".to_owned(),
    };
    let ticks = axis_ticks(max, true);
    Chart::both(|size| {
        let mut frame = Frame::new(size, "Backlog: open tickets at the end of each day", &desc, &ticks, "open");
        let slot = frame.slot(days.len());
        let base = frame.y(0.0);
        let x = |i: f64| size.left + (i + 0.5) * slot;
        let mut points = format!("{:.1},{base:.1} ", x(0.0));
        for (i, day) in days.iter().enumerate() {
            let _ = write!(points, "{:.1},{:.1} ", x(i as f64), frame.y(f64::from(day.backlog_at_end)));
        }
        let _ = write!(points, "{:.1},{base:.1}", x(days.len() as f64 - 1.0));
        let _ = write!(
            frame.svg,
            r##"<polygon points="{points}" fill="#c9dbef" fill-opacity="0.8" stroke="{IN_HOURS}"/>"##
        );
        for (i, day) in days.iter().enumerate() {
            let _ = write!(
                frame.svg,
                r#"<rect x="{:.1}" y="{}" width="{slot:.1}" height="{:.1}" fill="transparent"><title>{}: {} open</title></rect>"#,
                size.left + i as f64 * slot,
                size.top,
                frame.plot_height(),
                day.date,
                day.backlog_at_end,
            );
        }
        frame.date_labels(days);
        frame.finish()
    })
}

/// One shade of the heat map: the counts it stands for and how strong it is.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Shade {
    pub label: String,
    pub opacity: f64,
}

/// The heat map's shades: none, then four equal bands up to the busiest hour (fewer when
/// the busiest hour has fewer than four arrivals). The legend and the cells share them.
pub fn shades(max: u32) -> Vec<(u32, u32, Shade)> {
    let mut bands = vec![(0, 0, Shade { label: "0".to_owned(), opacity: 0.04 })];
    let mut low = 1;
    for step in 1..=4u32 {
        let high = (u64::from(max) * u64::from(step)).div_ceil(4) as u32;
        if high >= low {
            let label = if low == high { low.to_string() } else { format!("{low}–{high}") };
            bands.push((low, high, Shade { label, opacity: 0.25 * f64::from(step) }));
            low = high + 1;
        }
    }
    bands
}

fn shade_of(bands: &[(u32, u32, Shade)], count: u32) -> f64 {
    bands.iter().find(|(low, high, _)| (*low..=*high).contains(&count)).map_or(1.0, |(_, _, s)| s.opacity)
}

/// Arrivals by weekday and hour of day (the desk's time zone): darker is busier.
pub fn heat_map(grid: &[[u32; 24]]) -> Chart {
    let max = grid.iter().flatten().copied().max().unwrap_or(0);
    let bands = shades(max);
    let total: u32 = grid.iter().flatten().sum();
    let busiest = grid
        .iter()
        .enumerate()
        .flat_map(|(day, hours)| hours.iter().enumerate().map(move |(hour, count)| (*count, day, hour)))
        .max_by_key(|(count, day, hour)| (*count, std::cmp::Reverse((*day, *hour))));
    let desc = match busiest {
        Some((count, day, hour)) if count > 0 => format!(
            "{total} arrivals by weekday and hour; the busiest hour was {} {hour:02}:00–{:02}:00 with {count}. The table below has every number.",
            WEEKDAYS[day],
            hour + 1
        ),
        _ => "No arrivals in the range.".to_owned(),
    };
    Chart::both(|size| {
        let Size { width, left, right, top, font, .. } = size;
        let (cell_w, cell_h) = ((width - left - right) / 24.0, 24.0);
        let height = top + cell_h * 7.0 + font + 12.0;
        let mut svg = format!(
            r#"<svg class="chart {}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="Arrivals by weekday and hour" xmlns="http://www.w3.org/2000/svg" font-size="{font}"><title>Arrivals by weekday and hour</title><desc>{desc}</desc>"#,
            size.class
        );
        for (day, hours) in grid.iter().enumerate() {
            let y = top + day as f64 * cell_h;
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                left - 6.0,
                y + cell_h / 2.0 + font * 0.35,
                WEEKDAYS[day]
            );
            for (hour, count) in hours.iter().enumerate() {
                let _ = write!(
                    svg,
                    r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{IN_HOURS}" fill-opacity="{:.2}"><title>{} {hour:02}:00–{:02}:00: {count}</title></rect>"#,
                    left + hour as f64 * cell_w,
                    (cell_w - 1.0).max(0.5),
                    cell_h - 1.0,
                    shade_of(&bands, *count),
                    WEEKDAYS[day],
                    hour + 1,
                );
            }
        }
        for hour in (0..24).step_by(size.hour_step) {
            let _ =
                write!(svg, r#"<text x="{:.1}" y="{:.1}">{hour:02}</text>"#, left + hour as f64 * cell_w, height - 6.0);
        }
        let _ = write!(svg, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">hour</text>"#, width - right, height - 6.0);
        svg.push_str("</svg>");
        svg
    })
}

/// The heat map's legend: each shade and the counts it stands for.
pub fn heat_legend(grid: &[[u32; 24]]) -> Vec<Shade> {
    shades(grid.iter().flatten().copied().max().unwrap_or(0)).into_iter().map(|(_, _, shade)| shade).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_axes_have_round_ticks_between_zero_and_the_top() {
        let cases: [(f64, bool, &[f64]); 7] = [
            (0.0, true, &[0.0, 1.0]),
            (3.0, true, &[0.0, 1.0, 2.0, 3.0]),
            (37.0, true, &[0.0, 10.0, 20.0, 30.0, 40.0]),
            (40.0, true, &[0.0, 10.0, 20.0, 30.0, 40.0]),
            (123.0, true, &[0.0, 50.0, 100.0, 150.0]),
            (5.0, false, &[0.0, 2.0, 4.0, 6.0]),
            (1.3, false, &[0.0, 0.5, 1.0, 1.5]),
        ];
        for (max, whole, ticks) in cases {
            assert_eq!(axis_ticks(max, whole), ticks, "{max} (whole: {whole})");
        }
    }

    #[test]
    fn dates_are_labelled_every_day_or_on_mondays() {
        let start = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(); // a Monday
        let days = |n: u64| (0..n).map(|i| start + chrono::Days::new(i)).collect::<Vec<_>>();
        assert_eq!(date_ticks(&days(7), 10), (0..7).collect::<Vec<_>>());
        // 30 days from a Monday: five Mondays, all labelled when ten fit, every other when four.
        assert_eq!(date_ticks(&days(30), 10), [0, 7, 14, 21, 28]);
        assert_eq!(date_ticks(&days(30), 4), [0, 14, 28]);
        // 90 days: thirteen Mondays, every second one.
        assert_eq!(date_ticks(&days(90), 10).len(), 7);
        assert!(date_ticks(&days(90), 10).iter().all(|i| days(90)[*i].weekday() == Weekday::Mon));
    }

    #[test]
    fn the_heat_map_legend_covers_every_count_once() {
        let labels = |max| shades(max).into_iter().map(|(_, _, s)| s.label).collect::<Vec<_>>();
        assert_eq!(labels(0), ["0"]);
        assert_eq!(labels(2), ["0", "1", "2"]);
        assert_eq!(labels(12), ["0", "1–3", "4–6", "7–9", "10–12"]);
        assert_eq!(labels(10), ["0", "1–3", "4–5", "6–8", "9–10"]);
        let bands = shades(10);
        for count in 0..=10 {
            assert_eq!(bands.iter().filter(|(low, high, _)| (*low..=*high).contains(&count)).count(), 1, "{count}");
        }
    }

    #[test]
    fn every_chart_has_a_description_in_both_sizes() {
        let day = |d: u32, received: u32| DayFigures {
            date: NaiveDate::from_ymd_opt(2026, 11, d).unwrap(),
            received_in_hours: received,
            received_out_of_hours: 1,
            backlog_at_end: received,
            unlock_business_seconds: Default::default(),
        };
        let days = [day(2, 3), day(3, 7), day(4, 2)];
        let volume = volume(&days);
        assert!(volume.wide.contains("<desc>From 2026-11-02 to 2026-11-04: 15 tickets received, 12 in working hours and 3 out of hours; the busiest day was 2026-11-03 with 8.</desc>"), "{}", volume.wide);
        for chart in [volume, unlock_times(&days, 4 * 3600), backlog(&days), heat_map(&[[0; 24]; 7])] {
            for svg in [&chart.wide, &chart.narrow] {
                assert!(svg.contains("<desc>") && svg.contains("<title>"), "{svg}");
            }
        }
    }
}
