import { LabIcon } from '@jupyterlab/ui-components';

const MLOPS_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path fill-rule="evenodd" d="M8.5 2h7v2h-1v4.6l5.5 9.2c.8 1.4-.2 3.2-1.8 3.2H5.8c-1.6 0-2.6-1.8-1.8-3.2l5.5-9.2V4h-1V2zm2.8 2v5.1L8.9 13h6.2l-2.4-3.9V4h-1.4z"/>
  </g>
</svg>`;

/** The MLOps logo: a lab flask. */
export const mlopsIcon = new LabIcon({
  name: 'mlops-jlab:logo',
  svgstr: MLOPS_SVG
});
