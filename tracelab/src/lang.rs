//! The language tracelab speaks to the student: English or Brazilian Portuguese.
//!
//! Every message a student reads is written in both, side by side, with [`tr!`](crate::tr), which
//! does not compile without both. A notebook chooses its language in its first cell with
//! [`set_language`]; before that, and in code outside notebooks, `LAB_LANG` (`en` or `pt-BR`)
//! chooses it for the whole lab, and English is the default. (JupyterLab's own language also
//! follows the locale, see `kernel-setup/lab-language`; tracelab does not, so that a notebook's
//! messages never change language with the machine it runs on.)
//!
//! The choice lives in the process's environment, not in a static: evcxr compiles each cell apart,
//! and a static of a dependency is not reliably the same one in every cell, while the kernel
//! process and its environment are. Each notebook has a kernel process of its own.

use std::cell::Cell;

/// A language of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    PtBr,
}

impl Lang {
    /// Every language, for tests that render each message in all of them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::PtBr];

    /// The tag `LAB_LANG` takes for it.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::PtBr => "pt-BR",
        }
    }

    /// `en`, or `pt-BR` (also written `pt_BR` or `pt`).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        match tag {
            "en" => Some(Lang::En),
            "pt-BR" | "pt_BR" | "pt" => Some(Lang::PtBr),
            _ => None,
        }
    }
}

/// A language tag that is not one of the lab's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a language of this lab: expected \"en\" or \"pt-BR\"")]
pub struct UnknownLanguage(pub String);

/// The variable that holds the lab's language, for the whole lab and per notebook.
pub const LAB_LANG: &str = "LAB_LANG";

thread_local! {
    /// A language set for one thread only, by [`with_language`] (tests render a message in each
    /// language side by side; the environment is one for the whole process).
    static OVERRIDE: Cell<Option<Lang>> = const { Cell::new(None) };
}

/// The language messages are written in now.
pub fn current() -> Lang {
    if let Some(lang) = OVERRIDE.with(Cell::get) {
        return lang;
    }
    if cfg!(test) {
        // Unit tests assert English unless they ask for another language: the machine's
        // LAB_LANG must not change their outcome.
        return Lang::En;
    }
    std::env::var(LAB_LANG)
        .ok()
        .as_deref()
        .and_then(Lang::from_tag)
        .unwrap_or(Lang::En)
}

/// Makes `tag` (`"en"` or `"pt-BR"`) the language of every message from here on, in this cell and
/// the next ones: a notebook's first cell calls it.
pub fn set_language(tag: &str) -> Result<Lang, UnknownLanguage> {
    let lang = Lang::from_tag(tag).ok_or_else(|| UnknownLanguage(tag.to_owned()))?;
    std::env::set_var(LAB_LANG, lang.tag());
    Ok(lang)
}

/// Runs `f` with messages in `lang` on this thread.
pub fn with_language<T>(lang: Lang, f: impl FnOnce() -> T) -> T {
    let before = OVERRIDE.with(|cell| cell.replace(Some(lang)));
    let value = f();
    OVERRIDE.with(|cell| cell.set(before));
    value
}

/// One message in every language, picked by [`current`]:
/// `tr!(en: format!("..."), pt: format!("..."))`. Leaving a language out does not compile.
#[macro_export]
macro_rules! tr {
    (en: $en:expr, pt: $pt:expr $(,)?) => {
        match $crate::lang::current() {
            $crate::lang::Lang::En => $en,
            $crate::lang::Lang::PtBr => $pt,
        }
    };
}

/// Renders `messages` in English and in Portuguese, asserts that each differs between the two and
/// that no Portuguese one contains any of `english_words` (a message left untranslated), and
/// returns the Portuguese ones for more specific assertions.
#[cfg(test)]
pub(crate) fn assert_translated(
    messages: impl Fn() -> Vec<String>,
    english_words: &[&str],
) -> Vec<String> {
    let english = with_language(Lang::En, &messages);
    let portuguese = with_language(Lang::PtBr, &messages);
    assert_eq!(english.len(), portuguese.len());
    for (en, pt) in english.iter().zip(&portuguese) {
        assert_ne!(en, pt, "the same in both languages: {en}");
        for word in english_words {
            assert!(!pt.contains(word), "{word:?} in Portuguese: {pt}");
        }
    }
    portuguese
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_the_languages_and_an_unknown_one_is_refused() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
        }
        assert_eq!(Lang::from_tag("pt_BR"), Some(Lang::PtBr));
        assert_eq!(
            set_language("fr").unwrap_err().to_string(),
            "\"fr\" is not a language of this lab: expected \"en\" or \"pt-BR\""
        );
    }

    #[test]
    fn with_language_sets_this_thread_only_and_restores() {
        let outside = current();
        let inside = with_language(Lang::PtBr, || {
            let other = std::thread::spawn(current).join().unwrap();
            (current(), other)
        });
        assert_eq!(inside.0, Lang::PtBr);
        assert_eq!(inside.1, outside, "another thread keeps its language");
        assert_eq!(current(), outside);
        assert_eq!(
            with_language(Lang::PtBr, || tr!(en: "yes", pt: "sim")),
            "sim"
        );
        assert_eq!(with_language(Lang::En, || tr!(en: "yes", pt: "sim")), "yes");
    }
}
