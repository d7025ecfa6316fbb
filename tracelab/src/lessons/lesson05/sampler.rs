//! Notebook 05's third exercise: the sampler asked for a ratio chosen as the check runs.

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider};

use crate::check::{self, calling, Checklist};
use crate::exercise::{Exercise, Text};
use crate::tr;

use super::LESSON;

pub const SAMPLER: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-3",
    points: 2,
    title: Text {
        en: "Your turn 3: a sampler for any ratio",
        pt: "Sua vez 3: um sampler para qualquer taxa",
    },
    section: Text {
        en: "Sampling",
        pt: "Amostragem",
    },
    api: Text {
        en: "`Sampler::TraceIdRatioBased(ratio)` keeps a share of traces by their id; \
             `Sampler::ParentBased(Box::new(..))` wraps a sampler so that it only decides for \
             root spans.",
        pt: "`Sampler::TraceIdRatioBased(ratio)` guarda uma parte dos traces pelo id deles; \
             `Sampler::ParentBased(Box::new(..))` envolve um sampler para que ele só decida pelos \
             spans raiz.",
    },
    change: Text {
        en: "Set sampler to a parent-based sampler that wraps a ratio sampler built from the \
             ratio argument (not from a number of your own).",
        pt: "Ponha em sampler um sampler baseado no pai que envolve um sampler de taxa montado \
             com o argumento ratio (não com um número seu).",
    },
};

/// Your turn 3: `sampler_for(ratio)`, for a ratio chosen now, keeps about that share of 4,000
/// roots, and follows a caller's decision.
pub fn sampler_for(sampler_for: impl Fn(f64) -> Sampler) {
    const ROOTS: usize = 4_000;
    let ratios = [0.05, 0.15, 0.20, 0.30, 0.35, 0.40, 0.45, 0.50];
    let ratio = ratios[fastrand::usize(..ratios.len())];
    let mut checks = Checklist::exercise(&SAMPLER);
    let Some(sampler) = checks.check(
        &tr!(
            en: format!("sampler_for({ratio}) gives a sampler"),
            pt: format!("sampler_for({ratio}) dá um sampler"),
        ),
        calling("sampler_for", || sampler_for(ratio)),
    ) else {
        checks.finish();
        return;
    };
    let memory = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler.clone())
        .with_simple_exporter(memory.clone())
        .build();
    let tracer = provider.tracer("lab-check");
    for _ in 0..ROOTS {
        tracer.in_span("request", |_cx| {});
    }
    let share = memory.get_finished_spans().unwrap_or_default().len() as f64 / ROOTS as f64;
    checks.check(
        &tr!(
            en: format!("it keeps about {:.0}% of new traces", ratio * 100.0),
            pt: format!("ele guarda cerca de {:.0}% dos traces novos", ratio * 100.0),
        ),
        check::that(
            (share - ratio).abs() <= 0.03,
            tr!(
                en: format!(
                    "it kept {:.1}% of {ROOTS} new traces, for a ratio of {:.0}%.",
                    share * 100.0,
                    ratio * 100.0
                ),
                pt: format!(
                    "ele guardou {:.1}% de {ROOTS} traces novos, para uma taxa de {:.0}%.",
                    share * 100.0,
                    ratio * 100.0
                ),
            ),
        ),
    );
    checks.check(
        tr!(
            en: "it follows the caller's decision (parent-based)",
            pt: "ele segue a decisão de quem chama (baseado no pai)",
        ),
        check::follows_parent(&sampler),
    );
    let _ = provider.shutdown();
    checks.finish();
}
