"""Tests of the dataset catalog: every dataset listed with size, offline flag and licence."""

import importlib
import json
import subprocess
import sys

import pytest

from invwidgets.data import (
    CatalogEntry,
    DatasetTable,
    Source,
    available,
    catalog_entry,
    color_digits,
    colorful_mnist,
    digits,
    helix,
    mnist_sample,
    register,
    sprites,
)
from invwidgets.data import catalog as catalog_module

OFFLINE = {"digits", "color_digits", "mnist_sample", "colorful_mnist", "sprites", "scenes", "helix"}
ONLINE = {"mnist", "fashion_mnist", "dsprites", "shapes3d", "cifar10"}
LICENCES = {
    "mnist": "CC BY-SA 3.0",
    "mnist_sample": "CC BY-SA 3.0",
    "fashion_mnist": "MIT",
    "dsprites": "Apache 2.0",
    "shapes3d": "Apache 2.0",
    "cifar10": "unspecified, see the authors' page",
}


def test_every_dataset_is_listed_with_size_offline_and_licence():
    table = available()
    assert isinstance(table, DatasetTable) and all(isinstance(e, CatalogEntry) for e in table)
    assert set(table.names()) == OFFLINE | ONLINE
    for e in table:
        assert e.offline == (e.name in OFFLINE), e.name
        assert e.n > 0 and e.shape and e.license and e.citation, e.name
    for name, licence in LICENCES.items():
        assert catalog_entry(name).license == licence
    assert set(available(offline=True).names()) == OFFLINE
    assert set(available(offline=False).names()) == ONLINE
    with pytest.raises(ValueError, match="offline must be"):
        available(offline="yes")


def test_table_prints_and_renders():
    table = available()
    text = str(table)
    lines = text.splitlines()
    assert lines[0].split() == ["name", "what", "size", "offline", "licence", "extra"]
    assert len(lines) == 2 + len(table)
    assert "70,000 × 1×28×28" in text and "[mnist]" in text
    html = table._repr_html_()
    assert html.count("<tr>") == 1 + len(table) and "unspecified, see the authors&#x27; page" in html
    assert table.rows()[0]["name"] == table.names()[0]


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("digits", digits),
        ("color_digits", color_digits),
        ("sprites", sprites),
        ("helix", helix),
        ("mnist_sample", mnist_sample),
        ("colorful_mnist", colorful_mnist),
    ],
)
def test_offline_entries_match_the_datasets_they_load(name, make):
    e = catalog_entry(name)
    d = make()
    assert e.resolve() is make
    assert (d.citation, d.license, d.url) == (e.source.citation, e.source.license, e.source.url)
    assert len(d) == e.n and d.shape == e.shape
    info = dict(d.info.factors)
    for factor, size in e.factors:
        if size is None:  # continuous: a discrete draw index (colour) or an extra (helix t)
            assert factor in info or factor in d.extras, (name, factor)
        else:
            assert info[factor] == size, (name, factor)
    assert catalog_module.load(name).name == d.name


def test_listing_imports_no_loader():
    # listing the catalog adds no module at all; importing the data package pulls in neither
    # mlxtend (and its pandas), nor h5py, nor the download code
    code = (
        "import sys, json; import invwidgets.data.catalog as c; before = set(sys.modules); "
        "t = c.available(); str(t); t._repr_html_(); [e.license for e in t]; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    code = (
        "import sys, json; import invwidgets.data.catalog; "
        "print(json.dumps([m for m in sys.modules if m.startswith(('mlxtend', 'h5py', 'pandas')) "
        "or m in ('invwidgets.data.online', 'invwidgets.data.download')]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_register_and_lookup_errors(monkeypatch):
    monkeypatch.setattr(catalog_module, "_ENTRIES", dict(catalog_module._ENTRIES))
    mine = CatalogEntry("toy", "a toy", "invwidgets.data.digits:digits", 1797, (1, 8, 8), True,
                        Source("me", "CC0", None))
    register(mine)
    assert "toy" in available().names() and catalog_entry("toy") is mine
    with pytest.raises(ValueError, match="already in the catalog"):
        register(mine)
    register(mine, replace=True)
    with pytest.raises(ValueError, match="module:function"):
        register(CatalogEntry("bad", "x", "invwidgets.data.digits", 1, (1,), True, Source(None, None, None)))
    with pytest.raises(TypeError, match="CatalogEntry"):
        register({"name": "x"})
    with pytest.raises(KeyError, match="available: digits"):
        catalog_entry("imagenet")
    missing = CatalogEntry("gone", "x", "invwidgets.data.digits:nothing", 1, (1,), True, Source(None, None, None))
    with pytest.raises(AttributeError, match="has no 'nothing'"):
        missing.resolve()


def test_scenes_and_download_entries_match_their_modules():
    online = importlib.import_module("invwidgets.data.online")
    scenes_module = importlib.import_module("invwidgets.data.scenes")
    for name in ONLINE:
        assert catalog_entry(name).resolve() is getattr(online, name)
    assert catalog_entry("dsprites").factors == online.DSPRITES_FACTORS
    assert catalog_entry("shapes3d").factors == online.SHAPES3D_FACTORS
    scenes_entry = catalog_entry("scenes")
    assert scenes_entry.resolve() is scenes_module.scenes
    sizes = dict(zip(scenes_module.SCENE_FACTORS, scenes_module.SCENE_FACTOR_SIZES))
    assert dict(scenes_entry.factors) == sizes and scenes_entry.n == 480_000
    few = scenes_entry.load(n=3, size=32)
    assert (few.citation, few.license) == (scenes_entry.citation, scenes_entry.license)
    assert few.factor_sizes == tuple(sizes.values())
