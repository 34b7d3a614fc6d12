"""`tui-trader` draws its first screen before it imports the heavy libraries and the engine
(DESIGN.md: start to first paint < 0.5 s, heavy libraries imported lazily). The time itself is
measured by bench/bench_tui.py, never here; this checks what had been imported at the moment
of the first paint, through the app's first-paint hook (TUI_TRADER_FIRST_PAINT_FILE), and that
the workstation then started its engine and drew market data as before."""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Not before the first paint: the engine (built after it), the settings' machinery (the first
# screen is drawn from the [ui] values: cli/settings_check.py) and the numeric libraries.
# Nor what the first screen needs only as types or later: the engine's snapshot module, the
# two-venue routing, the `:` line's grammar (loaded with the first command), the engine's event
# types and the positions, fills and signals they bring, the market, order and instrument types
# (the engine client and the panes use them as types; orders are built after the first paint),
# the dialogs' modules (loaded when one is first opened: screens/__init__.py), the chart's drawing
# (loaded with the first candles), the order preview (with the first order) and the tickets'
# pre-fills (with the first one). Nor the packages' metadata (~15 ms: `textual.__version__`
# reads it; the stylesheet's cache is keyed without it). Nor ctypes (the heap's trim, a minute on).
NOT_BEFORE_PAINT = ("tui_trader.engine.root", "pydantic", "pydantic_settings", "numpy", "pandas", "orjson",
                    "textual.widgets._text_area", "tui_trader.engine.snapshot", "tui_trader.routing",
                    "tui_trader.ui.commandline", "tui_trader.core.events", "tui_trader.core.positions",
                    "tui_trader.core.fills", "tui_trader.core.signals", "tui_trader.core.cashflows",
                    "tui_trader.core.market", "tui_trader.core.orders", "tui_trader.core.instrument",
                    "tui_trader.ui.screens.ticket", "tui_trader.ui.screens.confirm", "tui_trader.ui.screens.alerts",
                    "tui_trader.ui.screens.help", "tui_trader.ui.screens.arm_live",
                    "tui_trader.ui.screens.paste_signal", "tui_trader.ui.screens.symbol_search",
                    "tui_trader.ui.chart_render", "tui_trader.ui.order_preview", "tui_trader.ui.prefill",
                    "importlib.metadata", "ctypes")  # fmt: skip


def _launch(home: Path, *args: str) -> tuple[list[float], set[str], list[int]]:
    """Times (first paint, first frame with data, settled), the modules imported at the first
    paint and the dataclass methods and regular expressions compiled by then."""
    stamp = home / "first_paint"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUI_TRADER_") or k == "TUI_TRADER_CACHE_DIR"}
    env.update({"TUI_TRADER_HOME": str(home), "TUI_TRADER_FIRST_PAINT_FILE": str(stamp),
                "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "48"})  # fmt: skip
    master, slave = pty.openpty()
    exe = Path(sys.executable).with_name("tui-trader")
    child = subprocess.Popen([str(exe), *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                             start_new_session=True)  # fmt: skip
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60  # generous: CI machines are shared
    while child.poll() is None and time.monotonic() < deadline:
        try:
            seen += os.read(master, 65536)  # drain the screen so the child never blocks on output
        except OSError:
            break
    try:
        code = child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=10)
        pytest.fail(f"tui-trader did not exit after its first frame with data: {seen[-300:]!r}")
    finally:
        os.close(master)
    assert code == 0 and stamp.exists(), f"exit {code}, no first-paint file: {seen[-300:]!r}"
    times, modules, compiled = stamp.read_text().splitlines()
    return [float(t) for t in times.split()], set(modules.split()), [int(n) for n in compiled.split()]


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [
        None,  # nothing to check: the [ui] defaults
        '[ui]\ntheme = "tui-light"\nwatchlist = ["ETH/USDT", "BTC/USDT"]\n[paper]\nseed = 3\n',  # a child checks it
    ],
    ids=["no-config", "config"],
)
def test_the_first_paint_comes_before_the_engine_and_the_heavy_libraries(tmp_path: Path, config: str | None) -> None:
    if config is not None:
        (tmp_path / "config.toml").write_text(config)
    (paint, data, settled), modules, _ = _launch(tmp_path)
    assert "textual" in modules and "tui_trader.ui.app" in modules  # the list is the app's
    assert sorted(modules.intersection(NOT_BEFORE_PAINT)) == []
    assert data >= settled >= paint  # then the engine started and a frame with its data was drawn


@pytest.mark.slow
def test_the_next_start_compiles_no_dataclass_and_no_regular_expression_before_its_first_paint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python compiles the methods of every dataclass and every regular expression as the
    modules that make them are imported (Textual's, Rich's and ours: ~10 % of the work before
    the first paint). The workstation keeps both in the cache folder (core/dataclass_code.py,
    core/regex_code.py): the first start compiles them, the next none."""
    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", str(tmp_path / "cache"))
    homes = (tmp_path / "first", tmp_path / "next")
    for home in homes:
        home.mkdir()
    (_, _, (first_classes, first_patterns)), (_, modules, following) = (_launch(home) for home in homes)
    assert first_classes > 20 and first_patterns > 20, (first_classes, first_patterns)
    assert following == [0, 0]
    assert "tomllib" not in modules  # nor the theme files' TOML read again (ui/theme.py)


async def test_the_panes_behind_the_front_tabs_mount_after_the_first_paint() -> None:
    """The grid's slots draw their front pane first; the panes behind (performance, league,
    signals, the tape, copy) are mounted once the screen is drawn, and their number key shows
    them, even when pressed before they were mounted."""
    from tui_trader.ui.layout import SLOTS
    from tui_trader.ui.slot import Slot

    from ui_helpers import build_rig

    rig = build_rig()
    app = rig.app
    composed: list[dict[str, str]] = []
    mount = app.mount_deferred_panes

    async def first_seen() -> None:
        composed.append(dict(app.deferred_panes))
        app.mount_deferred_panes = mount  # type: ignore[method-assign]
        app.action_show_pane("tape")  # pressed before the panes behind were mounted
        await mount()

    app.mount_deferred_panes = first_seen  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        behind = {key for keys in SLOTS.values() for key in keys[1:] if key != "spreads"}  # one venue
        assert set(composed[0]) == behind  # not mounted at the first paint
        assert app.deferred_panes == {} and all(app._panes[key].is_mounted for key in behind)
        assert app.query_one("#slot-right", Slot).active == "tape"
        assert app._panes["tape"] in app.visible_panes()


class _Starting:
    """An engine client that is still starting: the workstation as it is first drawn."""

    attached = False

    async def start(self) -> None:
        await asyncio.Event().wait()

    async def candles(self, *args: object, **kwargs: object) -> list[object]:
        return []

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("size", [(160, 48), (100, 30)], ids=["grid", "tabs"])
async def test_the_first_screen_is_styled_once_and_styling_it_again_changes_nothing(size: tuple[int, int]) -> None:
    """Textual styles every widget of a screen again when the screen resumes; the workstation's
    screen skips that on its first resume (app.WorkstationScreen), since each widget was styled
    when it was mounted. Styling the whole screen again must change no widget's styles."""
    from tui_trader.ui.app import WorkstationApp

    app = WorkstationApp(_Starting())  # type: ignore[arg-type]

    def styles() -> dict[object, tuple[str, ...]]:
        return {
            node: (node.styles.css, *(node.get_component_styles(name).css for name in sorted(node.COMPONENT_CLASSES)))
            for node in app.screen.walk_children(with_self=True)
        }

    async with app.run_test(size=size) as pilot:
        await _started_and_settled(app, pilot)  # the panes behind the front tabs mounted too
        before = styles()
        assert len(before) > 40 and app.query("LiveTable")  # the workstation's panes, drawn
        app.screen.update_node_styles(animate=False)
        await pilot.pause()
        assert styles() == before


async def test_the_first_screen_shows_no_horizontal_scrollbar() -> None:
    """The panes' tables fit their columns to their width (tables.FittedTable). Before the first
    data (the first fit) they showed a horizontal scrollbar each, which Textual built, laid out,
    drew and then took away: none on the first screen now."""
    from tui_trader.ui.app import WorkstationApp
    from tui_trader.ui.tables import LiveTable

    app = WorkstationApp(_Starting())  # type: ignore[arg-type]
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        tables = list(app.query(LiveTable))
        assert len(tables) >= 5
        assert [t.id for t in tables if t.show_horizontal_scrollbar] == []


async def test_the_keys_footer_shows_its_keys_in_the_first_paint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The footer's keys are part of the first screen (key_footer.KeyFooter). Textual's
    footer composed them only after the screen's first bindings update, after the first paint;
    with the engine importing meanwhile, they showed ~0.4 s after the rest."""
    from tui_trader.ui.app import FIRST_PAINT_ENV, WorkstationApp

    monkeypatch.setenv(FIRST_PAINT_ENV, str(tmp_path / "first_paint"))
    app = WorkstationApp(_Starting())  # type: ignore[arg-type]
    at_paint: list[str] = []

    def footer() -> str:  # the screen's last line as drawn
        return list(app.screen._compositor.render_strips())[-1].text  # type: ignore[no-any-return]

    app._stamp_first_paint = lambda: at_paint.append(footer())  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert at_paint and at_paint[0].startswith(" q Quit  ? Keys  : Command  b Buy  s Sell  ^k Flatten")
        assert at_paint[0].endswith("▏^p palette ")  # the palette's key on the right
        assert footer() == at_paint[0]  # the same keys once focus settled


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Where each source Textual's stylesheet parses from now on was read from."""
    import textual.css.stylesheet as stylesheet_module

    parsed: list[tuple[str, str]] = []
    parse = stylesheet_module.parse  # raising=True below: fails loudly if Textual renames it

    def counting(scope: str, css: str, read_from: tuple[str, str], *args: object, **kwargs: object) -> object:
        parsed.append(read_from)
        return parse(scope, css, read_from, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(stylesheet_module, "parse", counting)
    return parsed


def _styles(app: object) -> dict[object, tuple[str, ...]]:
    return {
        node: (node.styles.css, *(node.get_component_styles(name).css for name in sorted(node.COMPONENT_CLASSES)))
        for node in app.screen.walk_children(with_self=True)  # type: ignore[attr-defined]
    }


@pytest.mark.parametrize("theme", ["tui-dark", "tui-light"])
async def test_the_stylesheet_is_parsed_once_at_start_and_styled_as_textual_would(
    theme: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Setting `App.theme` made Textual re-parse app.tcss and its own CSS in a fresh stylesheet
    whose parse it then dropped, so both were parsed again with the first widget's CSS. The
    workstation gives the stylesheet its theme before the app runs (app._start_theme): each
    source is parsed once. Textual's own refresh of the CSS afterwards changes no style."""
    from tui_trader.ui.app import WorkstationApp

    parsed = _count_parses(monkeypatch)
    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", str(tmp_path))  # no rules kept from an earlier start
    app = WorkstationApp(_Starting(), _UI(theme))  # type: ignore[arg-type]
    async with app.run_test(size=(160, 48)) as pilot:
        await _started_and_settled(app, pilot)  # the panes behind the front tabs mounted too
        assert app.theme == theme and f"-theme-{theme}" in app.classes
        assert ("-light-mode" in app.classes) == (theme == "tui-light") != ("-dark-mode" in app.classes)
        app_css = [source for source in parsed if source[0].endswith("app.tcss")]
        textual_css = [source for source in parsed if source[1] == "App.DEFAULT_CSS"]
        if theme == "tui-dark":  # a light theme changes the terminal's ANSI colours: set as Textual sets it
            assert len(app_css) == 1 and len(textual_css) == 1, parsed
        before = _styles(app)
        assert len(before) > 40
        app.refresh_css(animate=False)  # Textual's own: the theme's variables, every source parsed, restyled
        await pilot.pause()
        assert _styles(app) == before


class _UI:
    """Settings whose [ui] asks for a theme (the rest: the defaults)."""

    def __init__(self, theme: str) -> None:
        from tui_trader.config.ui import UISettings

        self.ui = UISettings(theme=theme)


async def test_the_screen_is_laid_out_once_after_its_first_frame_before_it_settles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual lays the screen out again after its first frame for the sizes the first layout
    gave the widgets; it also laid it out again for each of the two resize events of the
    terminal's unchanged size it sends at start (app.WorkstationScreen.on_resize skips those).
    A resize to another size still lays the screen out."""
    from tui_trader.ui.app import FIRST_PAINT_ENV, WorkstationApp, WorkstationScreen

    layouts: list[str] = []

    class Counting(WorkstationScreen):
        def on_mount(self) -> None:  # the first layout publishes no signal: the ones after it
            self.screen_layout_refresh_signal.subscribe(self, lambda _: layouts.append("layout"), immediate=True)

    monkeypatch.setenv(FIRST_PAINT_ENV, str(tmp_path / "first_paint"))
    app = WorkstationApp(_Starting())  # type: ignore[arg-type]
    app.get_default_screen = lambda: Counting(id="_default")  # type: ignore[method-assign]
    settled: list[int] = []
    app._stamp_settled = lambda: settled.append(len(layouts))  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await _until_settled(pilot, settled)
        assert settled == [1], layouts  # 4 before under the headless runner: the resize events
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert app.screen.outer_size == (100, 30) and len(layouts) > 1


def test_the_order_book_shows_its_placeholder_from_the_first_frame() -> None:
    """The ladder's "waiting for the book…" was drawn on its first resize, after the first
    frame: the screen changed after it (a layout pass more before the first paint settled)."""
    from tui_trader.ui.lines import as_text
    from tui_trader.ui.panes.orderbook import Ladder

    assert as_text(Ladder().lines).plain == "waiting for the book…"


async def _until_settled(pilot: object, settled: list[object]) -> None:
    """Pause until the app's settled stamp ran (a loaded machine may need more than one pause)."""
    for _ in range(200):
        await pilot.pause()  # type: ignore[attr-defined]
        if settled:
            return
        await pilot.pause(0.01)  # type: ignore[attr-defined]


def _cells(screen: object) -> list[list[tuple[str, str]]]:
    """The whole screen as Textual's compositor draws it now: each line's runs of text with one
    style (a full render; right after a frame was drawn, it holds what that frame drew)."""
    lines = []
    for line in screen._compositor.render_full_update().strips:  # type: ignore[attr-defined]
        runs: list[tuple[str, str]] = []
        for strip in line:
            for segment in strip:
                style = str(segment.style)
                if runs and runs[-1][1] == style:
                    runs[-1] = (runs[-1][0] + segment.text, style)
                elif segment.text:
                    runs.append((segment.text, style))
        lines.append(runs)
    return lines


@pytest.mark.parametrize("size", [(160, 48), (100, 30)], ids=["grid", "tabs"])
async def test_the_first_paint_is_the_first_frame_and_it_is_the_whole_first_screen(
    size: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first paint is stamped at Textual's Ready (app.on_ready: the first frame is on the
    terminal), not once the screen settled: Textual lays the screen out again after its first
    frame and draws what that changed. It must change nothing: every frame drawn until the
    screen settled (no layout or drawing left, the engine still starting) is the first frame,
    cell for cell and style for style. (In the tabs layout, Textual's tab bar moves its underline
    under the active tab after the screen settled; the grid's slots draw it in the first frame.) Reads
    Textual's compositor: fails loudly if Textual renames it."""
    import textual.screen as screen_module

    from tui_trader.ui.app import FIRST_PAINT_ENV, WorkstationApp

    frames: list[list[list[tuple[str, str]]]] = []
    refresh = screen_module.Screen._compositor_refresh

    def drawn(screen: screen_module.Screen[object]) -> None:
        refresh(screen)
        if screen is screen.app.screen:
            frames.append(_cells(screen))

    monkeypatch.setattr(screen_module.Screen, "_compositor_refresh", drawn)
    monkeypatch.setenv(FIRST_PAINT_ENV, str(tmp_path / "first_paint"))
    app = WorkstationApp(_Starting())  # type: ignore[arg-type]
    painted: list[int] = []
    settled: list[int] = []
    app._stamp_first_paint = lambda: painted.append(len(frames))  # type: ignore[method-assign]
    app._stamp_settled = lambda: settled.append(len(frames))  # type: ignore[method-assign]
    async with app.run_test(size=size) as pilot:
        await _until_settled(pilot, settled)
        assert painted == [1]  # stamped once, after the first frame
        assert len(settled) == 1 and settled[0] > 1  # Textual drew again before it settled
        first = frames[0]
        assert sum(len(text) for runs in first for text, _ in runs) >= size[0] * size[1]
        for frame in frames[1 : settled[0]]:
            changed = [y for y, runs in enumerate(frame) if runs != first[y]]
            assert changed == [], [("".join(t for t, _ in first[y]), "".join(t for t, _ in frame[y])) for y in changed]


def _styles_by_path(app: object) -> dict[tuple[str, int], tuple[str, ...]]:
    """Each widget's styles (and its component classes'), by its CSS identifier and how many
    widgets before it had the same one."""
    out: dict[tuple[str, int], tuple[str, ...]] = {}
    for node, css in _styles(app).items():
        name = node.css_identifier_styled.plain  # type: ignore[attr-defined]
        out[name, sum(1 for other, _ in out if other == name)] = css
    return out


async def _started_and_settled(app: object, pilot: object) -> None:
    """Until the panes behind the front tabs are mounted (the engine still starting)."""
    for _ in range(200):
        await pilot.pause()  # type: ignore[attr-defined]
        if not app.deferred_panes:  # type: ignore[attr-defined]
            break
        await pilot.pause(0.01)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def test_the_next_start_takes_the_parsed_stylesheet_from_the_first_and_styles_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the first start parsed (app.tcss, every widget's default CSS) is kept in the cache
    folder once the screen is drawn (ui/css_cache.py); the next start parses none of it before
    its first paint and every widget's styles come out the same. Textual's refresh of the CSS
    (a fresh parse of every source) changes no style of the screen styled from the kept rules."""
    from tui_trader.ui.app import FIRST_PAINT_ENV, WorkstationApp

    parsed = _count_parses(monkeypatch)
    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv(FIRST_PAINT_ENV, str(tmp_path / "first_paint"))
    first = WorkstationApp(_Starting())  # type: ignore[arg-type]
    async with first.run_test(size=(160, 48)) as pilot:
        await _started_and_settled(first, pilot)
        styled = _styles_by_path(first)
    assert any(source[0].endswith("app.tcss") for source in parsed)
    assert [path.name for path in tmp_path.glob("css-*.pickle")] != []

    parsed.clear()
    app = WorkstationApp(_Starting())  # type: ignore[arg-type]
    at_paint: list[list[tuple[str, str]]] = []
    app._stamp_first_paint = lambda: at_paint.append(list(parsed))  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await _started_and_settled(app, pilot)
        assert at_paint == [[]]  # nothing parsed before the first paint
        assert len(styled) > 40 and _styles_by_path(app) == styled
        app.refresh_css(animate=False)  # Textual's own: every source parsed afresh, restyled
        await pilot.pause()
        assert parsed != [] and _styles_by_path(app) == styled


@pytest.mark.parametrize("content", [b"", b"not a pickle", None], ids=["empty", "damaged", "another-key"])
def test_a_damaged_or_foreign_stylesheet_cache_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            content: bytes | None) -> None:  # fmt: skip
    """A cache file that cannot be read, or that was kept for other theme variables, gives the
    stylesheet nothing (it parses as before); the next save writes a good one."""
    import pickle

    from textual.css.stylesheet import Stylesheet

    from tui_trader.ui.css_cache import CssCache

    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", str(tmp_path))
    cache = CssCache.for_variables({"primary": "#123456"})
    other = CssCache.for_variables({"primary": "#654321"})
    assert cache.path != other.path and cache.path.parent == tmp_path
    if content is None:  # the right name, another key inside
        content = pickle.dumps({"key": other.key, "rules": {("x",): []}})
    cache.path.write_bytes(content)
    stylesheet = Stylesheet(variables={"primary": "#123456"})
    assert cache.load(stylesheet) == 0 and list(stylesheet._parse_cache.keys()) == []
    stylesheet.add_source("Screen { layers: base overlay; }", read_from=("test.tcss", ""))
    rules = stylesheet.rules  # parsed as before
    assert cache.save(stylesheet) and not cache.save(stylesheet)  # written once
    again = Stylesheet(variables={"primary": "#123456"})
    assert CssCache.for_variables({"primary": "#123456"}).load(again) == 1
    again.add_source("Screen { layers: base overlay; }", read_from=("test.tcss", ""))
    assert [rule.css for rule in again.rules] == [rule.css for rule in rules]
