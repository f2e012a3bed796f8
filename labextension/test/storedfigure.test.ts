import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  figureHeading,
  isFigure,
  plainText,
  themedFigure,
  titleFromPath,
  untitledFigure
} from '../src/storedfigure';

const COLORS = {
  text: '#111',
  muted: '#666',
  grid: '#ddd',
  font: 'Inter'
};

test('themedFigure drops the stored template and recolours the axes', () => {
  const stored = {
    data: [
      { type: 'scatter', x: [1, 2], y: [3, 4], line: { color: '#4c72b0' } },
      { type: 'parcoords', dimensions: [] }
    ],
    layout: {
      template: { layout: { paper_bgcolor: 'white' } },
      title: { text: '<b>acc across the sweep</b>' },
      xaxis: { title: { text: 'alpha' }, type: 'log' },
      yaxis2: { title: { text: 'acc' } },
      width: 900,
      height: 400,
      annotations: [{ text: 'no metric' }]
    }
  };
  const { data, layout } = themedFigure(stored, COLORS);
  assert.equal(layout.template, undefined);
  assert.equal(layout.width, undefined);
  assert.equal(layout.height, 400);
  assert.equal(layout.paper_bgcolor, 'rgba(0,0,0,0)');
  assert.equal(layout.font.color, '#666');
  assert.equal(layout.title.font.color, '#111');
  assert.equal(layout.xaxis.gridcolor, '#ddd');
  assert.equal(layout.xaxis.type, 'log');
  assert.equal(layout.xaxis.automargin, true);
  assert.equal(layout.yaxis2.gridcolor, '#ddd');
  assert.equal(layout.annotations[0].font.color, '#666');
  assert.equal(data[0].line.color, '#4c72b0', 'traces keep their colours');
  assert.equal(data[1].labelfont.color, '#111');
  // The stored figure is untouched.
  assert.ok(stored.layout.template);
  assert.equal((stored.layout.xaxis as any).gridcolor, undefined);
  assert.equal(isFigure(stored), true);
  assert.equal(isFigure({ layout: {} }), false);
  assert.equal(isFigure(null), false);
});

test('plainText drops plotly markup and decodes entities', () => {
  assert.equal(plainText('<b>acc &amp; f1</b>'), 'acc & f1');
  assert.equal(
    plainText("<span style='color:#c62828'>1 failed</span> &middot; x"),
    '1 failed &middot; x',
    'unknown entities stay'
  );
  assert.equal(plainText('&#39;a&#x27;  &lt;b&gt;'), "'a' <b>");
  assert.equal(plainText('  a\n  b  '), 'a b');
});

test('figureHeading: the first title line, the others as the subtitle', () => {
  const sweep = {
    data: [],
    layout: {
      title: {
        text: "<b>accuracy across the sweep</b><br><sup>4 combination(s) · <span style='color:red'>1 failed</span></sup>"
      }
    }
  };
  assert.deepEqual(figureHeading(sweep, 'Sweep'), {
    title: 'accuracy across the sweep',
    subtitle: '4 combination(s) · 1 failed'
  });
  assert.deepEqual(
    figureHeading({ data: [], layout: { title: 'Rounds' } }, 'x'),
    { title: 'Rounds', subtitle: '' },
    'a title given as a plain string'
  );
  assert.deepEqual(figureHeading({ data: [] }, 'Param importance'), {
    title: 'Param importance',
    subtitle: ''
  });
  assert.equal(
    figureHeading({ data: [], layout: { title: { text: '<b></b>' } } }, 'F')
      .title,
    'F'
  );
  assert.equal(figureHeading(null, 'F').title, 'F');
});

test('titleFromPath names a stored chart by its file', () => {
  assert.equal(
    titleFromPath('charts/optimization_history.json'),
    'Optimization history'
  );
  assert.equal(titleFromPath('charts/rounds.json'), 'Rounds');
  assert.equal(titleFromPath('charts/per-client-loss.JSON'), 'Per client loss');
  assert.equal(titleFromPath('charts/_.json'), 'charts/_.json');
});

test('untitledFigure drops the title and the room above the plot', () => {
  const themed = themedFigure(
    {
      data: [{ type: 'bar', x: [1], y: ['a'] }],
      layout: {
        title: { text: '<b>Importance</b>' },
        margin: { l: 60, r: 30, t: 80, b: 50 }
      }
    },
    COLORS
  );
  const { data, layout } = untitledFigure(themed);
  assert.equal(layout.title, undefined);
  assert.deepEqual(layout.margin, { l: 60, r: 30, t: 32, b: 50 });
  assert.equal(data, themed.data);
  assert.ok(themed.layout.title, 'the themed figure is untouched');
  assert.equal(untitledFigure({ data: [], layout: {} }).layout.margin.t, 32);
  assert.equal(
    untitledFigure({ data: [], layout: { margin: { t: 10 } } }).layout.margin.t,
    10
  );
});
