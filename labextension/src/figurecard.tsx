/**
 * A stored plotly figure in a themed card: its title as an HTML heading above the
 * plot (plotly's own title is dropped), the figure redrawn in the theme's colours.
 */
import * as React from 'react';

import { Plot } from './chart';
import {
  figureHeading,
  StoredFigure,
  themedFigure,
  untitledFigure
} from './storedfigure';

export function FigureCard(props: {
  figure: StoredFigure;
  /** Changes when the stored figure changes (its sha256, an explanation's id). */
  dataKey: string;
  themeVersion: number;
  /** The heading when the figure has no title. */
  fallbackTitle: string;
  /** Where the figure is stored, shown muted beside the heading. */
  source?: string;
  className?: string;
}): JSX.Element {
  const heading = figureHeading(props.figure, props.fallbackTitle);
  return (
    <figure
      className={`mlops-FigureCard ${props.className ?? ''}`}
      aria-label={heading.title}
    >
      <figcaption className="mlops-FigureCardHeading">
        <span className="mlops-FigureCardTitle">{heading.title}</span>
        {props.source && (
          <code className="mlops-FigureCardSource mlops-Muted">
            {props.source}
          </code>
        )}
        {heading.subtitle && (
          <span className="mlops-FigureCardSubtitle mlops-Muted">
            {heading.subtitle}
          </span>
        )}
      </figcaption>
      <Plot
        label={heading.title}
        dataKey={props.dataKey}
        themeVersion={props.themeVersion}
        figure={colors => untitledFigure(themedFigure(props.figure, colors))}
      />
    </figure>
  );
}
