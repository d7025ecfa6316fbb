"""The lab's two languages.

- JupyterLab's: kernel-setup/lab-language picks it from LAB_LANG or the user's locale, and
  kernel-setup/jupyterlab/<language>/ holds the default settings that make JupyterLab use it. (The
  browser test sees the Portuguese menus in a real JupyterLab.)
- The READMEs': each English README has a Portuguese twin, linked both ways, with the same commands
  (code blocks, comments aside), the same names in backquotes and the same figures.
"""

import json
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from jupyterlab_server.translation_utils import get_language_pack

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPT = HERE / "lab-language"
README_PAIRS = [("README.md", "README.pt-BR.md"), ("iac/README.md", "iac/README.pt-BR.md")]


def lab_language(**env):
    return subprocess.run([SCRIPT], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=10)


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, "en"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "pt_BR.UTF-8"}, "pt-BR"),
        ({"LANG": "pt_PT.UTF-8"}, "pt-BR"),
        ({"LANG": "C.UTF-8", "LC_MESSAGES": "pt_BR.UTF-8"}, "pt-BR"),
        ({"LANG": "pt_BR.UTF-8", "LC_ALL": "C"}, "en"),
        ({"LANG": "pt_BR.UTF-8", "LAB_LANG": "en"}, "en"),
        ({"LAB_LANG": "pt-BR"}, "pt-BR"),
        ({"LAB_LANG": "pt_BR"}, "pt-BR"),
        ({"LAB_LANG": "pt"}, "pt-BR"),
        ({"LAB_LANG": "", "LANG": "pt_BR.UTF-8"}, "pt-BR"),
    ],
)
def test_the_language_comes_from_lab_lang_then_the_locale(env, expected):
    result = lab_language(**env)
    assert (result.returncode, result.stdout, result.stderr) == (0, expected + "\n", "")


def test_an_unknown_lab_lang_is_one_line_naming_it_and_what_is_expected():
    result = lab_language(LAB_LANG="fr")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == 'lab: LAB_LANG="fr" is not a language of this lab: expected en or pt-BR\n'


@pytest.mark.parametrize(
    "language, locale, run_all",
    [
        ("en", "en", None),
        ("pt-BR", "pt_BR", "Executar todas as células"),
    ],
)
def test_each_language_sets_a_locale_jupyterlab_has(language, locale, run_all):
    overrides = json.loads((HERE / "jupyterlab" / language / "overrides.json").read_text())
    assert overrides["@jupyterlab/translation-extension:plugin"] == {"locale": locale}
    # A classroom lab, often offline, does not ask (in English) to fetch Jupyter's news, and a
    # pinned JupyterLab does not look for updates.
    assert overrides["@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false", "checkForUpdates": False}
    if run_all:
        pack, message = get_language_pack(locale)
        assert message == "", message
        assert pack["jupyterlab"]["Run All Cells"] == [run_all]


def code_blocks(text):
    """The fenced code blocks, each without its `# comments` (which are prose)."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)
    return [re.sub(r"(^|\s+)#(?!!).*$", "", block, flags=re.M).rstrip() for block in blocks]


def prose(text):
    return re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)


def inline_code(text):
    return Counter(re.findall(r"`([^`\n]+)`", prose(text)))


def figures(text):
    """Every number of the prose and tables, with its separators dropped (1,134 and 1.134 are the
    same figure written in English and in Portuguese; so are 0.2 and 0,2)."""
    return Counter(re.sub(r"[.,]", "", n) for n in re.findall(r"\d(?:[\d.,]*\d)?", prose(text)))


@pytest.mark.parametrize("english, portuguese", README_PAIRS)
def test_each_readme_has_a_portuguese_twin_with_the_same_commands_names_and_figures(english, portuguese):
    en, pt = (ROOT / english).read_text(), (ROOT / portuguese).read_text()
    assert f"]({Path(portuguese).name})" in en, f"{english} links to {portuguese}"
    assert f"]({Path(english).name})" in pt, f"{portuguese} links to {english}"
    assert code_blocks(pt) == code_blocks(en)
    only_en, only_pt = inline_code(en) - inline_code(pt), inline_code(pt) - inline_code(en)
    assert (only_en, only_pt) == (Counter(), Counter()), "names in backquotes differ"
    only_en, only_pt = figures(en) - figures(pt), figures(pt) - figures(en)
    assert (only_en, only_pt) == (Counter(), Counter()), "figures differ"
