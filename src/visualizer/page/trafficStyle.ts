// Traffic mode's CSS, added to the page when the mode is first entered (its switch's is style.css's); it uses the page's
// colour variables (light and dark).
export const TRAFFIC_CSS = `
.traffic { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .1rem .7rem .6rem; margin-bottom: .6rem; font-size: .85rem; }
.traffic h3 { margin: .8rem 0 .3rem; font-size: .9rem; }
.traffic p { margin: .3rem 0; }
.traffic table { width: 100%; }
.traffic td.num, .traffic .histogram .num { text-align: right; font-variant-numeric: tabular-nums; }
.traffic .bar { display: inline-block; height: .7rem; min-width: 1px; margin-right: .4rem; vertical-align: middle; background: var(--accent); border-radius: 2px; }
.traffic-form:not([hidden]) { display: grid; grid-template-columns: minmax(0, 1fr); gap: .25rem; margin: .4rem 0; }
.traffic-form input { width: 100%; }
.traffic-form .field:not([hidden]) { display: contents; }
[data-testid="traffic-live"] { font-weight: 600; }
/* The dot is drawn, not typed: green and pulsing while live, hollow otherwise; the word says the same. */
[data-testid="traffic-live"]::before { content: ""; display: inline-block; width: .7rem; height: .7rem; margin-right: .4rem; border-radius: 50%; border: 2px solid var(--muted); vertical-align: -.05rem; }
[data-testid="traffic-live"][data-live="true"]::before { background: var(--avail-glow); border-color: var(--avail-glow); animation: traffic-pulse 2s ease-in-out infinite; }
[data-testid="traffic-live"][data-state="refused"] { color: var(--bad); }
[data-testid="traffic-live"][data-state="refused"]::before { border-color: var(--bad); }
@keyframes traffic-pulse { 50% { opacity: .35; } }
@media (prefers-reduced-motion: reduce) { [data-testid="traffic-live"][data-live="true"]::before { animation: none; } }
/* Wide screens: the panel takes the room its widest table (non-conformance) needs; the chart, bound by the height, keeps its size. */
@media (min-width: 1800px) { body[data-traffic] main { grid-template-columns: minmax(0, 1fr) 35rem; } }
.histogram { list-style: none; padding: 0; margin: .2rem 0; display: grid; gap: .15rem; }
.histogram li { display: grid; grid-template-columns: 6.5rem 4.4rem auto; align-items: center; gap: .3rem; }
[data-testid="nonconformance"] button { font-size: .8rem; min-height: 1.6rem; padding: .1rem .25rem; }
[data-testid="nonconformance"] tr[data-session] { cursor: pointer; }
body[data-traffic] #diagram [data-edge] path { stroke-width: var(--traffic-w, 1.5px); }
body[data-traffic] #diagram [data-edge]:hover path, body[data-traffic] #diagram [data-edge]:focus path { stroke-width: calc(var(--traffic-w, 1.5px) + 2px); }
/* A hovered or focused edge's label is underlined, not bolded here: bold is wider, and the counts were placed 4 px
   clear of the labels as drawn. */
body[data-traffic] #diagram [data-edge]:is(:hover, :focus) text { font-weight: normal; }
/* Explore's highlights (current state, what it could take now) say nothing about traffic: drawn plain here. */
body[data-traffic] #diagram [data-active="true"] path { fill: var(--node); stroke: var(--node-line); stroke-width: 1px; }
body[data-traffic] #diagram [data-active="true"] text { font-weight: normal; }
#diagram text.traffic-count { font: bold 16px Helvetica, sans-serif; fill: var(--ink); paint-order: stroke; stroke: var(--bg); stroke-width: 4px; stroke-linejoin: round; }
#diagram rect.traffic-backing { fill: var(--bg); stroke: none; }
#diagram text.traffic-state { font: 16px Helvetica, sans-serif; fill: var(--ink); paint-order: stroke; stroke: var(--bg); stroke-width: 4px; stroke-linejoin: round; }
#log li[data-flagged="true"] { outline: 3px solid var(--bad); }
/* Traffic's legend replaces Explore's while on; the scale's lines are drawn at the widths the chart uses. */
.swatch.traffic-scale { border-top-style: solid; border-top-color: var(--e-diagram); }
/* The non-conformance table fits the panel: words wrap between words and at the <wbr> the page puts after "." and
   "-" and between a camelCase name's parts, never inside a word; the columns share the width by what they hold. */
[data-testid="nonconformance"] { width: 100%; }
[data-testid="nonconformance"] th, [data-testid="nonconformance"] td { overflow-wrap: normal; vertical-align: top; padding: .15rem .25rem; }
[data-testid="nonconformance"] .count { display: block; margin-top: .15rem; font-variant-numeric: tabular-nums; }
[data-testid="funnel"] tr[data-main="false"] th { font-weight: normal; color: var(--muted); }
/* Compare: each line coloured by its change AND patterned (and its label signed), each colour 3:1 or more against the
   background; a line unused in both windows thin and grey, with no label. Edge names in ink, so that only lines carry colour. */
:root { --c-up: #0b5cad; --c-new: #6a2fb0; --c-down: #a84300; --c-gone: #b3261e; --c-same: #5f6b76; }
@media (prefers-color-scheme: dark) { :root { --c-up: #6cb6ff; --c-new: #d2a8ff; --c-down: #ffa657; --c-gone: #ff8b80; --c-same: #a3adb7; } }
body[data-compare] #diagram [data-change] path:not(.hit) { stroke: var(--c-same); stroke-dasharray: none; }
body[data-compare] #diagram [data-change] polygon { stroke: var(--c-same); fill: var(--c-same); }
body[data-compare] #diagram [data-edge] text { fill: var(--ink); }
body[data-compare] #diagram [data-change="up"] path:not(.hit) { stroke: var(--c-up); }
body[data-compare] #diagram [data-change="up"] polygon { stroke: var(--c-up); fill: var(--c-up); }
body[data-compare] #diagram [data-change="new"] path:not(.hit) { stroke: var(--c-new); }
body[data-compare] #diagram [data-change="new"] polygon { stroke: var(--c-new); fill: var(--c-new); }
body[data-compare] #diagram [data-change="down"] path:not(.hit) { stroke: var(--c-down); stroke-dasharray: calc(var(--traffic-w, 2px) * 3 + 6px) calc(var(--traffic-w, 2px) + 4px); }
body[data-compare] #diagram [data-change="down"] polygon { stroke: var(--c-down); fill: var(--c-down); }
body[data-compare] #diagram [data-change="gone"] path:not(.hit) { stroke: var(--c-gone); stroke-dasharray: 0 calc(var(--traffic-w, 2px) * 2 + 2px); stroke-linecap: round; }
body[data-compare] #diagram [data-change="gone"] polygon { stroke: var(--c-gone); fill: var(--c-gone); }
.swatch.compare-up { border-top: 3px solid var(--c-up); } .swatch.compare-new { border-top: 5px solid var(--c-new); }
.swatch.compare-down { border-top: 3px dashed var(--c-down); } .swatch.compare-gone { border-top: 4px dotted var(--c-gone); }
.swatch.compare-same { border-top: 2px solid var(--c-same); }
body[data-traffic] .key:not(#traffic-legend):not(#compare-legend) { display: none; }
.compare-changes summary { cursor: pointer; font-weight: 600; margin: .5rem 0 .3rem; }
.compare-ranges fieldset { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: .25rem .5rem; align-items: center; border: 1px solid var(--line); border-radius: 4px; margin: .3rem 0; padding: .2rem .5rem .4rem; }
.compare-ranges .field { display: contents; }
.compare-ranges input { width: 100%; }
[data-testid="compare-table"], table.breakdown { table-layout: fixed; }
[data-testid="compare-table"] th, [data-testid="compare-table"] td, table.breakdown th, table.breakdown td { overflow-wrap: normal; vertical-align: top; }
[data-testid="compare-table"] th:not(:first-child), [data-testid="compare-table"] td { width: 4.6rem; }
table.breakdown caption { text-align: left; font-weight: 600; margin: .5rem 0 .2rem; }
table.breakdown th:not(:first-child), table.breakdown td { width: 3.6rem; }
table.breakdown .on { display: block; font-weight: normal; color: var(--muted); }
.traffic .examples { list-style: none; padding: 0; margin: .2rem 0; display: flex; flex-wrap: wrap; gap: .3rem; }
.traffic .examples button, .paths button { font-size: .8rem; min-height: 1.6rem; padding: .1rem .4rem; }
/* Top paths: the path (a button that pins it on the diagram), its count and share, its example to replay. */
.paths { padding-left: 0; margin: .2rem 0; list-style: none; }
.paths li { margin: .2rem 0; }
.paths li[data-path] { display: grid; grid-template-columns: minmax(0, 1fr) auto auto; gap: .3rem; align-items: center; }
.paths button.path { text-align: left; overflow-wrap: anywhere; background: var(--bg); }
.paths button.path[aria-pressed="true"] { background: var(--accent); color: var(--bg); }
.paths .num { font-variant-numeric: tabular-nums; white-space: nowrap; }
/* A path shown on the diagram: the rest of the chart fades, its lines and states stay. */
#diagram[data-path] [data-edge]:not([data-on-path]) :is(path:not(.hit), polygon) { opacity: .2; }
#diagram[data-path] [data-state]:not([data-on-path]) :is(path, polygon) { opacity: .35; }
#diagram[data-path] [data-edge][data-on-path] path:not(.hit) { stroke-width: calc(var(--traffic-w, 1.5px) + 2px); }
#diagram[data-path] [data-state][data-on-path] path { stroke-width: 3px; }
`;
