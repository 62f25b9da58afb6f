"""The layout of the code: layers as folders, imports one way, and a README that says so."""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
API = ROOT / "api"


def test_imports_follow_the_layer_contracts():
    # import-linter reads the contracts in pyproject.toml: web -> exports -> store -> model, and no
    # Flask below the web layer.
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def function_level_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").split(".")[0] in (
                    "api",
                    "seed",
                    "schemas",
                ):
                    found.append(f"{path.relative_to(ROOT)}:{inner.lineno} {inner.module}")
    return found


def test_no_module_of_the_project_is_imported_inside_a_function():
    # A cycle dodged with a late import hides a layer broken; the one exception is the MCP SDK,
    # which only `icc-events mcp` needs and which takes longer to import than other commands run.
    found = [hit for path in sorted(API.rglob("*.py")) for hit in function_level_imports(path)]
    assert [(hit.split(":")[0], hit.split()[1]) for hit in found] == [
        ("api/cli.py", "api.integrations.mcp_server")
    ]


def layout_entries() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    tree = section.split("```\n", 1)[1].split("```", 1)[0]
    return [line.split()[0] for line in tree.splitlines() if line.strip()]


def test_readme_layout_lists_every_layer_and_top_level_folder():
    entries = layout_entries()
    layers = sorted(f"{p.name}/" for p in API.iterdir() if (p / "__init__.py").exists())
    modules = sorted(p.name for p in API.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    listed_under_api = entries[1 : entries.index("schemas/")]
    assert entries[0] == "api/"
    assert sorted(listed_under_api) == sorted(layers + modules)
    top = [e for e in entries if e not in listed_under_api and e != "api/"]
    assert all((ROOT / e).is_dir() for e in top)


def test_each_layer_says_what_it_is_in_its_docstring():
    for package in (p for p in API.iterdir() if (p / "__init__.py").exists()):
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 20, package.name


DOC_FILES = [
    "README.md",
    "bench/README.md",
    *(str(p.relative_to(ROOT)) for p in ROOT.glob("deploy/**/*.md")),
    *(str(p.relative_to(ROOT)) for p in ROOT.glob("docs/*.md")),
]


def test_docs_name_only_modules_and_functions_that_exist():
    missing = []
    for name in DOC_FILES:
        text = (ROOT / name).read_text(encoding="utf-8")
        for path in set(re.findall(r"(?<![\w./-])(?:api|seed|schemas|bench|tests)/[\w/]+\.py\b", text)):
            if not (ROOT / path).exists():
                missing.append(f"{name}: {path}")
        # `api/module.Name`: a path written with a slash and a dot
        for path, attribute in set(
            re.findall(r"(?<![\w./-])((?:api|seed|schemas)/[\w/]+)\.([A-Za-z_]\w*)\b", text)
        ):
            if (ROOT / f"{path}.{attribute}").exists():
                continue  # a file: api/web/openapi.yaml
            missing.append(f"{name}: {path}.{attribute} (write it as a dotted module path)")
        # `module.function` references
        for module, attribute in set(
            re.findall(r"(?<![\w./-])((?:api|seed|schemas)(?:\.\w+)+)\.(\w+)\b", text)
        ):
            file = ROOT / (module.replace(".", "/") + ".py")
            package = ROOT / module.replace(".", "/") / f"{attribute}.py"
            if file.exists():
                if not re.search(
                    rf"^(?:def|class|async def) {attribute}\b|^{attribute}\b\s*[:=]", file.read_text(), re.M
                ):
                    missing.append(f"{name}: {module}.{attribute}")
            elif not package.exists() and not (ROOT / module.replace(".", "/")).is_dir():
                missing.append(f"{name}: {module}.{attribute}")
    assert sorted(missing) == []


def test_every_setting_is_read_by_the_app_or_an_extension_it_configures():
    import flask_compress

    from api.config import DEFAULTS

    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for path in [*API.rglob("*.py"), *(ROOT / "seed").rglob("*.py")]
        if path != API / "config.py"
    )
    extension = Path(flask_compress.__file__).parent.joinpath("flask_compress.py").read_text(encoding="utf-8")
    unread = [name for name in DEFAULTS if f'"{name}"' not in sources and f'"{name}"' not in extension]
    assert unread == []
