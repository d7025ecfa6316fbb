"""The language JupyterLab shows the lab in: kernel-setup/lab-language picks it from LAB_LANG or
the user's locale, and kernel-setup/jupyterlab/<language>/ holds the default settings that make
JupyterLab use it. (The browser test sees the Portuguese menus in a real JupyterLab.)"""

import json
import subprocess
from pathlib import Path

import pytest
from jupyterlab_server.translation_utils import get_language_pack

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "lab-language"


def lab_language(**env):
    return subprocess.run([SCRIPT], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True,
                          timeout=10)


@pytest.mark.parametrize("env, expected", [
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
])
def test_the_language_comes_from_lab_lang_then_the_locale(env, expected):
    result = lab_language(**env)
    assert (result.returncode, result.stdout, result.stderr) == (0, expected + "\n", "")


def test_an_unknown_lab_lang_is_one_line_naming_it_and_what_is_expected():
    result = lab_language(LAB_LANG="fr")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == 'lab: LAB_LANG="fr" is not a language of this lab: expected en or pt-BR\n'


@pytest.mark.parametrize("language, locale, run_all", [
    ("en", "en", None),
    ("pt-BR", "pt_BR", "Executar todas as células"),
])
def test_each_language_sets_a_locale_jupyterlab_has(language, locale, run_all):
    overrides = json.loads((HERE / "jupyterlab" / language / "overrides.json").read_text())
    assert overrides == {"@jupyterlab/translation-extension:plugin": {"locale": locale}}
    if run_all:
        pack, message = get_language_pack(locale)
        assert message == "", message
        assert pack["jupyterlab"]["Run All Cells"] == [run_all]
