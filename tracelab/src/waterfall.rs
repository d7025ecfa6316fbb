//! Draws finished spans as a trace waterfall: one row per span, nested under its parent, a bar
//! on a timeline for when it ran, its duration beside it, one color per service, errors in red.
//!
//! The picture is an SVG inside a little HTML, shown in Jupyter through evcxr's rich output
//! (a cell whose value is a [`Waterfall`] displays it), and testable as text with
//! [`Waterfall::to_html`]. [`Waterfall::with_critical_path`] also marks each trace's critical path
//! (see [`crate::critical_path`]) with a dark line inside the bars, as Jaeger's trace view does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use opentelemetry_sdk::trace::SpanData;

use crate::critical_path::CriticalPath;
use crate::html::escape;
use crate::model::{human_duration, TraceSpan};
use crate::tr;

const LABEL_WIDTH: usize = 300;
const BAR_WIDTH: usize = 480;
const DURATION_WIDTH: usize = 100;
const ROW_HEIGHT: usize = 24;
const HEADER_HEIGHT: usize = 28;
const INDENT: usize = 16;
const ERROR_COLOR: &str = "#d62728";
const CRITICAL_COLOR: &str = "#111111";
/// Service colors, in the order services first appear (colorblind-safe Okabe-Ito palette).
const PALETTE: [&str; 7] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
];

/// Spans to draw, from one or several services and traces.
#[derive(Debug, Clone, Default)]
pub struct Waterfall {
    spans: Vec<TraceSpan>,
    /// Mark each trace's critical path.
    critical_path: bool,
}

/// One drawn row.
struct Row<'a> {
    span: &'a TraceSpan,
    depth: usize,
    /// The span names a parent that is not among the spans drawn.
    orphan: bool,
}

impl Waterfall {
    pub fn new() -> Waterfall {
        Waterfall::default()
    }

    /// A waterfall of spans from the SDK, made by the service `service`.
    pub fn of(spans: &[SpanData], service: &str) -> Waterfall {
        Waterfall::new().with_sdk_spans(spans, service)
    }

    /// Adds spans from the SDK, made by the service `service`.
    pub fn with_sdk_spans(mut self, spans: &[SpanData], service: &str) -> Waterfall {
        self.spans.extend(TraceSpan::all_from_sdk(spans, service));
        self
    }

    /// Adds spans already in the drawing model (for example fetched from Jaeger).
    pub fn with_spans(mut self, spans: impl IntoIterator<Item = TraceSpan>) -> Waterfall {
        self.spans.extend(spans);
        self
    }

    /// Marks each trace's critical path, and lists the time each span name spent on it.
    pub fn with_critical_path(mut self) -> Waterfall {
        self.critical_path = true;
        self
    }

    pub fn spans(&self) -> &[TraceSpan] {
        &self.spans
    }

    /// The trace ids drawn, earliest trace first.
    pub fn trace_ids(&self) -> Vec<String> {
        self.traces()
            .into_iter()
            .map(|(id, _)| id.to_owned())
            .collect()
    }

    /// evcxr calls this to show a cell's value: the waterfall as HTML.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT",
            self.to_html()
        );
    }

    /// The waterfall as an HTML fragment holding one SVG picture.
    pub fn to_html(&self) -> String {
        if self.spans.is_empty() {
            return "<p><b>No spans to draw.</b> Did the cells that create spans run, and were \
                    the spans ended (and the provider flushed) before this cell?</p>"
                .to_owned();
        }
        let colors = self.service_colors();
        let traces = self.traces();
        let rows: usize = traces.iter().map(|(_, spans)| spans.len()).sum();
        let width = LABEL_WIDTH + BAR_WIDTH + DURATION_WIDTH;
        let legend_height = ROW_HEIGHT;
        let height = legend_height + traces.len() * HEADER_HEIGHT + rows * ROW_HEIGHT + 8;

        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="tracelab-waterfall" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
        );
        self.draw_legend(&mut svg, &colors);
        let mut y = legend_height;
        let mut paths = Vec::new();
        for (trace_id, spans) in &traces {
            let path = self
                .critical_path
                .then(|| CriticalPath::of_trace(&self.spans, trace_id));
            y = draw_trace(&mut svg, trace_id, spans, &colors, path.as_ref(), y);
            paths.extend(path);
        }
        svg.push_str("</svg>");
        let mut caption = String::new();
        for path in &paths {
            let parts: Vec<String> = path
                .time_by_name()
                .iter()
                .map(|(name, ns)| format!("{} {}", escape(name), human_duration(*ns)))
                .collect();
            let parts = parts.join(", ");
            let _ = write!(
                caption,
                "<p class=\"tracelab-critical-path\">{}</p>",
                tr!(
                    en: format!("Critical path (the dark line): {parts}."),
                    pt: format!("Caminho crítico (a linha escura): {parts}."),
                )
            );
        }
        let (span_count, trace_count) = (self.spans.len(), traces.len());
        let heading = tr!(
            en: format!(
                "{span_count} span(s) in {trace_count} trace(s). Hover over a bar for its ids and \
                 attributes."
            ),
            pt: format!(
                "{span_count} span(s) em {trace_count} trace(s). Passe o mouse sobre uma barra \
                 para ver seus ids e atributos."
            ),
        );
        format!("<div class=\"tracelab\"><p>{heading}</p>{svg}{caption}</div>")
    }

    /// Each service and its color, in the order the services first appear in time.
    fn service_colors(&self) -> Vec<(&str, &'static str)> {
        let mut ordered: Vec<&TraceSpan> = self.spans.iter().collect();
        ordered.sort_by_key(|span| span.start_ns);
        let mut colors: Vec<(&str, &'static str)> = Vec::new();
        for span in ordered {
            if !colors.iter().any(|(service, _)| *service == span.service) {
                colors.push((&span.service, PALETTE[colors.len() % PALETTE.len()]));
            }
        }
        colors
    }

    /// Spans grouped by trace, traces ordered by their first span's start.
    fn traces(&self) -> Vec<(&str, Vec<&TraceSpan>)> {
        let mut by_trace: BTreeMap<&str, Vec<&TraceSpan>> = BTreeMap::new();
        for span in &self.spans {
            by_trace
                .entry(span.trace_id.as_str())
                .or_default()
                .push(span);
        }
        let mut traces: Vec<(&str, Vec<&TraceSpan>)> = by_trace.into_iter().collect();
        traces.sort_by_key(|(_, spans)| spans.iter().map(|s| s.start_ns).min());
        traces
    }

    fn draw_legend(&self, svg: &mut String, colors: &[(&str, &'static str)]) {
        let mut x = 4;
        for (service, color) in colors {
            let _ = write!(
                svg,
                r#"<rect x="{x}" y="6" width="12" height="12" fill="{color}"/><text x="{}" y="16">{}</text>"#,
                x + 16,
                escape(service)
            );
            x += 16 + 8 * service.chars().count() + 20;
        }
        if self.spans.iter().any(|span| span.error.is_some()) {
            let _ = write!(
                svg,
                r#"<rect x="{x}" y="6" width="12" height="12" fill="white" stroke="{ERROR_COLOR}" stroke-width="2"/><text x="{}" y="16" fill="{ERROR_COLOR}">{}</text>"#,
                x + 16,
                tr!(en: "error", pt: "erro")
            );
        }
    }
}

/// Draws one trace's header and rows from `y` down; returns the next free `y`.
fn draw_trace(
    svg: &mut String,
    trace_id: &str,
    spans: &[&TraceSpan],
    colors: &[(&str, &'static str)],
    critical_path: Option<&CriticalPath>,
    mut y: usize,
) -> usize {
    let start = spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_ns).max().unwrap_or(start);
    let total = (end - start).max(1);
    let _ = write!(
        svg,
        r##"<rect x="0" y="{y}" width="{}" height="{}" fill="#f0f0f0"/><text x="4" y="{}" font-weight="bold">trace {trace_id}</text><text x="{}" y="{}" text-anchor="end">{}</text>"##,
        LABEL_WIDTH + BAR_WIDTH + DURATION_WIDTH,
        HEADER_HEIGHT - 4,
        y + 17,
        LABEL_WIDTH + BAR_WIDTH + DURATION_WIDTH - 4,
        y + 17,
        human_duration(end - start)
    );
    y += HEADER_HEIGHT;
    for row in rows(spans) {
        let span = row.span;
        let color = colors
            .iter()
            .find(|(service, _)| *service == span.service)
            .map_or(PALETTE[0], |(_, color)| *color);
        let x = LABEL_WIDTH + scale(span.start_ns - start, total);
        let bar = scale(span.duration_ns(), total).max(2);
        let (stroke, label_color, mark) = match &span.error {
            Some(_) => (
                format!(r#" stroke="{ERROR_COLOR}" stroke-width="2""#),
                ERROR_COLOR,
                "⚠ ",
            ),
            None => (String::new(), "black", ""),
        };
        let orphan = if row.orphan { " ↖" } else { "" };
        let _ = write!(
            svg,
            r#"<g class="span"><title>{}</title><text x="{}" y="{}" fill="{label_color}">{mark}{}{orphan} <tspan fill="{color}">{}</tspan></text><rect x="{x}" y="{}" width="{bar}" height="{}" rx="2" fill="{color}"{stroke}/><text x="{}" y="{}" text-anchor="end">{}</text></g>"#,
            escape(&tooltip(span, row.orphan)),
            4 + row.depth * INDENT,
            y + 16,
            escape(&span.name),
            escape(&span.service),
            y + 5,
            ROW_HEIGHT - 10,
            LABEL_WIDTH + BAR_WIDTH + DURATION_WIDTH - 4,
            y + 16,
            human_duration(span.duration_ns()),
        );
        for segment in critical_path
            .iter()
            .flat_map(|path| &path.segments)
            .filter(|segment| segment.span_id == span.span_id)
        {
            let _ = write!(
                svg,
                r#"<rect class="critical" x="{}" y="{}" width="{}" height="4" fill="{CRITICAL_COLOR}"/>"#,
                LABEL_WIDTH + scale(segment.start_ns - start, total),
                y + 9,
                scale(segment.end_ns - segment.start_ns, total).max(1),
            );
        }
        y += ROW_HEIGHT;
    }
    y
}

/// Depth-first order: each span followed by its children, siblings by start time.
fn rows<'a>(spans: &[&'a TraceSpan]) -> Vec<Row<'a>> {
    let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut children: HashMap<&str, Vec<&'a TraceSpan>> = HashMap::new();
    let mut roots: Vec<(&'a TraceSpan, bool)> = Vec::new();
    for span in spans {
        match span.parent_id.as_deref() {
            Some(parent) if ids.contains(parent) => children.entry(parent).or_default().push(span),
            Some(_) => roots.push((span, true)),
            None => roots.push((span, false)),
        }
    }
    roots.sort_by_key(|(span, _)| span.start_ns);
    let mut rows = Vec::new();
    let mut stack: Vec<(&'a TraceSpan, usize, bool)> = roots
        .into_iter()
        .rev()
        .map(|(span, orphan)| (span, 0, orphan))
        .collect();
    while let Some((span, depth, orphan)) = stack.pop() {
        rows.push(Row {
            span,
            depth,
            orphan,
        });
        if let Some(kids) = children.get_mut(span.span_id.as_str()) {
            kids.sort_by_key(|kid| std::cmp::Reverse(kid.start_ns));
            stack.extend(kids.iter().map(|kid| (*kid, depth + 1, false)));
        }
    }
    rows
}

fn scale(ns: u128, total: u128) -> usize {
    (ns * BAR_WIDTH as u128 / total) as usize
}

fn tooltip(span: &TraceSpan, orphan: bool) -> String {
    let status = if span.error.is_some() { "ERROR" } else { "ok" };
    let parent = span.parent_id.as_deref().map_or_else(
        || tr!(en: "none (root span)", pt: "nenhum (span raiz)").to_owned(),
        str::to_owned,
    );
    let orphan = if orphan {
        tr!(en: " (not among the spans drawn)", pt: " (não está entre os spans desenhados)")
    } else {
        ""
    };
    let (name, kind, service, scope) = (&span.name, &span.kind, &span.service, &span.scope);
    let (trace_id, span_id) = (&span.trace_id, &span.span_id);
    let duration = human_duration(span.duration_ns());
    let mut text = tr!(
        en: format!(
            "{name} ({kind}, {status})\nservice: {service}\ntracer (instrumentation scope): \
             {scope}\ntrace id: {trace_id}\nspan id: {span_id}\nparent id: {parent}{orphan}\n\
             duration: {duration}"
        ),
        pt: format!(
            "{name} ({kind}, {status})\nserviço: {service}\ntracer (escopo de instrumentação): \
             {scope}\ntrace id: {trace_id}\nspan id: {span_id}\nid do pai: {parent}{orphan}\n\
             duração: {duration}"
        ),
    );
    if let Some(description) = span.error.as_deref().filter(|d| !d.is_empty()) {
        let label = tr!(en: "error", pt: "erro");
        let _ = write!(text, "\n{label}: {description}");
    }
    for (key, value) in &span.attributes {
        let _ = write!(text, "\n{key} = {value}");
    }
    let event_label = tr!(en: "event", pt: "evento");
    for event in &span.events {
        let _ = write!(text, "\n{event_label}: {event}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::test_span as span;

    fn names_in_order(waterfall: &Waterfall) -> Vec<(String, usize)> {
        let traces = waterfall.traces();
        traces
            .iter()
            .flat_map(|(_, spans)| rows(spans))
            .map(|row| (row.span.name.clone(), row.depth))
            .collect()
    }

    #[test]
    fn children_follow_their_parent_indented_siblings_by_start() {
        let waterfall = Waterfall::new().with_spans([
            span("b", Some("a"), "second child", 30, 40),
            span("a", None, "root", 0, 100),
            span("c", Some("a"), "first child", 10, 20),
            span("d", Some("c"), "grandchild", 12, 18),
        ]);
        assert_eq!(
            names_in_order(&waterfall),
            vec![
                ("root".to_owned(), 0),
                ("first child".to_owned(), 1),
                ("grandchild".to_owned(), 2),
                ("second child".to_owned(), 1),
            ]
        );
    }

    #[test]
    fn bars_sit_on_the_traces_timeline() {
        let html = Waterfall::new()
            .with_spans([
                span("a", None, "root", 1_000, 2_000),
                span("b", Some("a"), "late half", 1_500, 2_000),
            ])
            .to_html();
        // root: full width from the label column; child: second half.
        assert!(
            html.contains(&format!(r#"<rect x="{LABEL_WIDTH}" y="#)),
            "{html}"
        );
        assert!(
            html.contains(&format!(r#"<rect x="{}" y="#, LABEL_WIDTH + BAR_WIDTH / 2)),
            "{html}"
        );
        assert!(html.contains(&format!(r#"width="{}""#, BAR_WIDTH / 2)));
        assert!(html.contains("1 µs"), "durations are written out: {html}");
    }

    #[test]
    fn each_service_gets_its_color_and_errors_show() {
        let mut backend = span("b", Some("a"), "GET /work", 10, 90);
        backend.service = "backend".into();
        backend.error = Some("timeout".into());
        let html = Waterfall::new()
            .with_spans([span("a", None, "GET /chain", 0, 100), backend])
            .to_html();
        assert!(
            html.contains(&format!(
                r#"fill="{}"/><text x="20" y="16">frontend"#,
                PALETTE[0]
            )),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                r#"fill="{}"/><text x="120" y="16">backend"#,
                PALETTE[1]
            )),
            "{html}"
        );
        assert!(html.contains(&format!(r#"stroke="{ERROR_COLOR}""#)));
        assert!(html.contains("⚠ GET /work"));
        assert!(html.contains("error: timeout"));
    }

    #[test]
    fn separate_traces_are_drawn_separately() {
        let mut other = span("x", None, "other", 5, 6);
        other.trace_id = "00000000000000000000000000000001".into();
        let waterfall = Waterfall::new().with_spans([span("a", None, "first", 0, 10), other]);
        assert_eq!(waterfall.trace_ids().len(), 2);
        let html = waterfall.to_html();
        assert_eq!(html.matches(">trace ").count(), 2);
        assert!(html.contains("2 span(s) in 2 trace(s)"));
    }

    #[test]
    fn a_span_whose_parent_is_elsewhere_is_drawn_as_a_root_and_marked() {
        let html = Waterfall::new()
            .with_spans([span("b", Some("remote"), "GET /", 0, 10)])
            .to_html();
        assert!(html.contains("GET / ↖"));
        assert!(html.contains("(not among the spans drawn)"));
    }

    #[test]
    fn the_tooltip_lists_attributes_and_events() {
        let mut order = span("a", None, "place_order", 0, 10);
        order.attributes = vec![("order.id".into(), "A-1042".into())];
        order.events = vec!["cache miss (cache.key = cart:A-1042)".into()];
        let html = Waterfall::new().with_spans([order]).to_html();
        assert!(html.contains("\norder.id = A-1042"), "{html}");
        assert!(
            html.contains("\nevent: cache miss (cache.key = cart:A-1042)"),
            "{html}"
        );
    }

    #[test]
    fn every_caption_and_tooltip_line_is_written_in_portuguese_too() {
        use crate::lang::{with_language, Lang};
        let mut order = span("a", None, "GET /order", 0, 100);
        order.error = Some("timeout".into());
        order.events = vec!["cache miss".into()];
        let stray = span("s", Some("remote"), "stray", 0, 10);
        let draw = || {
            Waterfall::new()
                .with_spans([
                    order.clone(),
                    span("b", Some("a"), "quote_item", 10, 60),
                    stray.clone(),
                ])
                .with_critical_path()
                .to_html()
        };
        let english = with_language(Lang::En, draw);
        let portuguese = with_language(Lang::PtBr, draw);
        for en in [
            "Hover over a bar",
            "Critical path (the dark line)",
            "\nservice: ",
            "\nduration: ",
            "\nparent id: none (root span)",
            "(not among the spans drawn)",
            "\nerror: timeout",
            "\nevent: cache miss",
            ">error</text>",
        ] {
            assert!(english.contains(en), "{en:?} in English");
            assert!(
                !portuguese.contains(en),
                "{en:?} in Portuguese: {portuguese}"
            );
        }
        for pt in [
            "Passe o mouse sobre uma barra",
            "Caminho crítico (a linha escura)",
            "\nserviço: ",
            "\nduração: ",
            "\nid do pai: nenhum (span raiz)",
            "(não está entre os spans desenhados)",
            "\nerro: timeout",
            "\nevento: cache miss",
            ">erro</text>",
        ] {
            assert!(
                portuguese.contains(pt),
                "{pt:?} missing in Portuguese: {portuguese}"
            );
        }
    }

    #[test]
    fn text_is_escaped() {
        let html = Waterfall::new()
            .with_spans([span("a", None, "<script>&", 0, 10)])
            .to_html();
        assert!(html.contains("&lt;script&gt;&amp;"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn the_critical_path_is_marked_and_summed_up() {
        let html = Waterfall::new()
            .with_spans([
                span("a", None, "GET /order", 0, 100),
                span("b", Some("a"), "quote_item", 10, 60),
                span("c", Some("a"), "quick", 10, 20),
            ])
            .with_critical_path()
            .to_html();
        assert_eq!(html.matches(r#"class="critical""#).count(), 3, "{html}");
        assert!(
            html.contains("Critical path (the dark line): GET /order 50 ns, quote_item 50 ns."),
            "{html}"
        );
        let plain = Waterfall::new()
            .with_spans([span("a", None, "GET /order", 0, 100)])
            .to_html();
        assert!(!plain.contains("critical"));
    }

    #[test]
    fn no_spans_says_what_to_check() {
        assert!(Waterfall::new().to_html().contains("No spans to draw"));
    }
}
