/** Types of text-to-svg.mjs (a terminal screen captured by tmux → SVG). */
export interface StyledRun {
  text: string;
  style: { fg?: string; bg?: string; bold?: boolean; dim?: boolean; inverse?: boolean };
}
export function styledRuns(line: string, style?: StyledRun['style']): StyledRun[];
export function textToSvg(capture: string, options?: { columns?: number; title?: string }): string;
