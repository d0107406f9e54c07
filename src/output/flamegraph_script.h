/*
 * flamegraph_script.h - the script and style embedded in frametap's SVG
 * flame graphs: tooltips come from <title>; this adds click-to-zoom, search
 * (regular expression, matches highlighted, matched share shown) and reset.
 * Frames carry data-x, data-w (fractions of the root) and data-d (depth).
 * Holds no data from the profile: names never reach the script as code.
 */
#ifndef FT_FLAMEGRAPH_SCRIPT_H
#define FT_FLAMEGRAPH_SCRIPT_H

static const char ft_flamegraph_style[] =
    "text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}\n"
    "#title{font-size:17px;text-anchor:middle}\n"
    ".btn{cursor:pointer;fill:#225}\n"
    ".f{cursor:pointer}.f:hover rect{stroke:#000;stroke-width:0.5}\n"
    ".f.hit rect{fill:#e040d0}\n"
    ".f.out{display:none}\n";

static const char ft_flamegraph_script[] =
    "var W, FH, frames, zoomed = null;\n"
    "function frameList() { return Array.prototype.slice.call(document.querySelectorAll('g.f')); }\n"
    "function fit(g, px) {\n"
    "  var t = g.querySelector('text'), full = g.getAttribute('data-label');\n"
    "  var n = Math.floor((px - 6) / 7);\n"
    "  t.textContent = n < 3 ? '' : (full.length <= n ? full : full.substring(0, n - 2) + '..');\n"
    "}\n"
    "function layout(x0, w0) {\n"
    "  frames.forEach(function (g) {\n"
    "    var x = +g.getAttribute('data-x'), w = +g.getAttribute('data-w');\n"
    "    var inside = x >= x0 - 1e-12 && x + w <= x0 + w0 + 1e-12;\n"
    "    var px = w / w0 * W, left = (x - x0) / w0 * W;\n"
    "    g.classList.toggle('out', !inside || px < 0.5);\n"
    "    var r = g.querySelector('rect');\n"
    "    r.setAttribute('x', left.toFixed(2)); r.setAttribute('width', Math.max(px - 0.5, 0.1).toFixed(2));\n"
    "    g.querySelector('text').setAttribute('x', (left + 3).toFixed(2));\n"
    "    fit(g, px);\n"
    "  });\n"
    "}\n"
    "function zoom(g) {\n"
    "  zoomed = g;\n"
    "  var x = +g.getAttribute('data-x'), w = +g.getAttribute('data-w'), d = +g.getAttribute('data-d');\n"
    "  layout(x, w);\n"
    "  frames.forEach(function (o) {\n"
    "    var od = +o.getAttribute('data-d'), ox = +o.getAttribute('data-x'), ow = +o.getAttribute('data-w');\n"
    "    if (od < d && ox <= x + 1e-12 && ox + ow >= x + w - 1e-12) { o.classList.remove('out'); fit(o, W); \n"
    "      o.querySelector('rect').setAttribute('x', 0); o.querySelector('rect').setAttribute('width', W);\n"
    "      o.querySelector('text').setAttribute('x', 3); }\n"
    "  });\n"
    "  document.getElementById('reset').style.display = 'inline';\n"
    "}\n"
    "function reset() { zoomed = null; layout(0, 1); document.getElementById('reset').style.display = 'none'; }\n"
    "function search(re) {\n"
    "  var total = 0, seen = [];\n"
    "  frames.forEach(function (g) {\n"
    "    var hit = re !== null && re.test(g.getAttribute('data-label'));\n"
    "    g.classList.toggle('hit', hit);\n"
    "    if (hit) {\n"
    "      var x = +g.getAttribute('data-x'), w = +g.getAttribute('data-w');\n"
    "      if (!seen.some(function (s) { return x >= s[0] && x + w <= s[1] + 1e-12; })) { seen.push([x, x + w]); total += w; }\n"
    "    }\n"
    "  });\n"
    "  document.getElementById('matched').textContent = re === null ? '' : 'Matched: ' + (100 * total).toFixed(1) + '%';\n"
    "}\n"
    "function askSearch() {\n"
    "  var term = prompt('Search for (regular expression):', '');\n"
    "  if (term === null || term === '') { search(null); return; }\n"
    "  try { search(new RegExp(term)); } catch (e) { search(null); }\n"
    "}\n"
    "function init() {\n"
    "  W = +document.documentElement.getAttribute('data-width');\n"
    "  frames = frameList();\n"
    "  frames.forEach(function (g) {\n"
    "    g.addEventListener('click', function () { zoom(g); });\n"
    "    g.addEventListener('mouseover', function () {\n"
    "      document.getElementById('details').textContent = g.querySelector('title').textContent; });\n"
    "  });\n"
    "  document.getElementById('search').addEventListener('click', askSearch);\n"
    "  document.getElementById('reset').addEventListener('click', reset);\n"
    "  layout(0, 1);\n"
    "}\n"
    "window.addEventListener('load', init);\n";

#endif
