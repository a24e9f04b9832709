package spacetime

import (
	"bufio"
	"fmt"
	"io"
)

// WriteHTML writes the diagram as a self-contained HTML page: the SVG
// inline, a style sheet and a script inline, nothing fetched from the
// network. The page filters arrows and marks by message type, sequence
// number range, view and replica, and shows a message's fields on hover.
func (d *Diagram) WriteHTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	l := d.build()
	g := l.geom()
	title := esc(d.title())
	fmt.Fprintf(bw, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n", title)
	bw.WriteString(htmlStyle)
	bw.WriteString("</head>\n<body>\n")
	fmt.Fprintf(bw, "<h1>%s</h1>\n<form id=\"filters\" onsubmit=\"return false\">\n<fieldset><legend>message types</legend>\n", title)
	for _, t := range l.types {
		fmt.Fprintf(bw, "<label style=\"color:%s\"><input type=\"checkbox\" class=\"ty\" value=\"%s\" checked> %s (%d)</label>\n", TypeColor(t), esc(t), esc(t), l.typeCount[t])
	}
	bw.WriteString("</fieldset>\n<fieldset><legend>filter</legend>\n")
	bw.WriteString("<label>seq <input id=\"seqmin\" type=\"number\" min=\"0\" placeholder=\"from\"></label>\n")
	bw.WriteString("<label>– <input id=\"seqmax\" type=\"number\" min=\"0\" placeholder=\"to\"></label>\n")
	bw.WriteString("<label>view <input id=\"view\" type=\"number\" min=\"0\" placeholder=\"any\"></label>\n")
	bw.WriteString("<label>node <select id=\"node\"><option value=\"\">any</option>\n")
	for _, n := range l.lanes {
		fmt.Fprintf(bw, "<option value=\"%d\">%s</option>\n", n, NodeName(n, l.replicas))
	}
	bw.WriteString("</select></label>\n<label><input type=\"checkbox\" id=\"marks\" checked> event marks</label>\n")
	bw.WriteString("<label><input type=\"checkbox\" id=\"droponly\"> dropped only</label>\n")
	bw.WriteString("<label><input type=\"checkbox\" id=\"byzonly\"> Byzantine only</label>\n")
	bw.WriteString("<button type=\"button\" id=\"reset\">reset</button>\n</fieldset>\n</form>\n")
	fmt.Fprintf(bw, "<p id=\"status\">showing <span id=\"shown\">%d</span> of <span id=\"total\">%d</span> arrows</p>\n", len(l.arrows), len(l.arrows))
	if note := l.note(d.opts.maxArrows()); note != "" {
		fmt.Fprintf(bw, "<p class=\"note\">%s</p>\n", esc(note))
	}
	bw.WriteString("<pre id=\"info\">hover a message or a mark to see its fields; preset filters in the URL, e.g. #types=PREPARE,COMMIT&amp;seqmin=3&amp;view=0&amp;node=1&amp;droponly=1</pre>\n<div id=\"wrap\">\n")
	fmt.Fprintf(bw, "<svg id=\"diagram\" width=\"%d\" height=\"%s\" viewBox=\"0 0 %d %s\" font-family=\"sans-serif\" font-size=\"11\">\n",
		svgWidth, f1(g.height), svgWidth, f1(g.height))
	d.writeSVGBody(bw, g)
	bw.WriteString("</svg>\n</div>\n<script>\n")
	bw.WriteString(htmlScript)
	bw.WriteString("</script>\n</body>\n</html>\n")
	return bw.Flush()
}

const htmlStyle = `<style>
body{font-family:sans-serif;margin:12px;color:#222}
h1{font-size:18px;margin:4px 0}
fieldset{display:inline-block;margin:4px;padding:4px 8px;border:1px solid #ccc}
fieldset label{margin-right:10px;white-space:nowrap}
input[type=number]{width:5em}
#info{background:#f6f6f6;border:1px solid #ddd;padding:6px;min-height:2.6em;max-height:12em;overflow:auto;white-space:pre-wrap;font-size:12px}
#wrap{overflow:auto}
.note{color:#b00020}
g.msg{cursor:pointer}
g.msg.hl line{stroke-width:3.5}
g.msg.hl line.halo{stroke-width:9}
</style>
`

// htmlScript filters g.msg and g.mark elements by their data attributes and
// keeps #shown equal to the number of visible arrows.
const htmlScript = `(function () {
  var msgs = Array.prototype.slice.call(document.querySelectorAll('g.msg'));
  var marks = Array.prototype.slice.call(document.querySelectorAll('g.mark'));
  function val(id) {
    var v = document.getElementById(id).value.trim();
    return v === '' ? null : Number(v);
  }
  function fieldsOK(d, s0, s1, v) {
    if (s0 !== null && (d.seq === undefined || Number(d.seq) < s0)) return false;
    if (s1 !== null && (d.seq === undefined || Number(d.seq) > s1)) return false;
    if (v !== null && (d.view === undefined || Number(d.view) !== v)) return false;
    return true;
  }
  function apply() {
    var types = {};
    document.querySelectorAll('input.ty').forEach(function (c) { types[c.value] = c.checked; });
    var s0 = val('seqmin'), s1 = val('seqmax'), v = val('view');
    var node = document.getElementById('node').value;
    var showMarks = document.getElementById('marks').checked;
    var dropOnly = document.getElementById('droponly').checked;
    var byzOnly = document.getElementById('byzonly').checked;
    var shown = 0;
    msgs.forEach(function (g) {
      var d = g.dataset;
      var ok = types[d.type] !== false && fieldsOK(d, s0, s1, v) &&
        (node === '' || d.from === node || d.to === node) &&
        (!dropOnly || g.classList.contains('dropped')) &&
        (!byzOnly || g.classList.contains('byz'));
      g.style.display = ok ? '' : 'none';
      if (ok) shown++;
    });
    marks.forEach(function (g) {
      var d = g.dataset;
      var ok = showMarks && fieldsOK(d, s0, s1, v) && (node === '' || d.node === node);
      g.style.display = ok ? '' : 'none';
    });
    document.getElementById('shown').textContent = String(shown);
    document.body.setAttribute('data-js', 'ready');
  }
  // Filters can be preset in the URL: #types=PREPARE,COMMIT&seqmin=3&view=0&node=1&droponly=1&byzonly=1
  function fromHash() {
    var h = location.hash.replace(/^#/, '');
    if (!h) return;
    h.split('&').forEach(function (kv) {
      var i = kv.indexOf('=');
      if (i < 0) return;
      var k = decodeURIComponent(kv.slice(0, i)), v = decodeURIComponent(kv.slice(i + 1));
      if (k === 'types') {
        var want = v.split(',');
        document.querySelectorAll('input.ty').forEach(function (c) { c.checked = want.indexOf(c.value) >= 0; });
      } else if (k === 'seqmin' || k === 'seqmax' || k === 'view' || k === 'node') {
        document.getElementById(k).value = v;
      } else if (k === 'droponly' || k === 'byzonly') {
        document.getElementById(k).checked = v === '1';
      }
    });
  }
  function hover(e) {
    var g = e.target.closest('g.msg, g.mark');
    if (!g) return;
    var t = g.querySelector('title');
    document.getElementById('info').textContent = t ? t.textContent : '';
    msgs.forEach(function (m) { m.classList.remove('hl'); });
    if (g.classList.contains('msg')) g.classList.add('hl');
  }
  document.getElementById('filters').addEventListener('input', apply);
  document.getElementById('filters').addEventListener('change', apply);
  document.getElementById('reset').addEventListener('click', function () {
    document.getElementById('filters').reset();
    apply();
  });
  document.getElementById('diagram').addEventListener('mouseover', hover);
  window.addEventListener('hashchange', function () { fromHash(); apply(); });
  fromHash();
  apply();
})();
`
