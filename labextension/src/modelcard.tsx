/**
 * The model card preview of a model version: the server's sanitized HTML shown in
 * a sandboxed iframe (`sandbox=""`: no scripts, no same-origin access; never
 * innerHTML), styled with the current theme's colors, and the editable
 * "intended use" saved with PUT.
 */
import * as React from 'react';

import { EmptyInline } from './common';
import { cardDocument, themeColors } from './modelcarddoc';

export function ModelCardView(props: {
  html: string | null;
  error: string | null;
  /** The saved intended use (null: unknown, e.g. the server does not return it). */
  intendedUse: string | null;
  canEdit: boolean;
  busy: boolean;
  saveError: string | null;
  onSave: (text: string) => Promise<boolean>;
  title: string;
}): JSX.Element {
  const [text, setText] = React.useState(props.intendedUse ?? '');
  const [dirty, setDirty] = React.useState(false);
  // A saved value that arrives later fills the box unless the user is typing.
  React.useEffect(() => {
    if (!dirty && props.intendedUse !== null) {
      setText(props.intendedUse);
    }
  }, [props.intendedUse]);
  const save = async () => {
    if (await props.onSave(text)) {
      setDirty(false);
    }
  };
  return (
    <div className="mlops-ModelCard">
      {props.error && <div className="mlops-FilterError">{props.error}</div>}
      {props.html !== null ? (
        <iframe
          className="mlops-ModelCardFrame"
          title={props.title}
          sandbox=""
          referrerPolicy="no-referrer"
          srcDoc={cardDocument(props.html, themeColors())}
        />
      ) : (
        !props.error && <EmptyInline>Loading the model card…</EmptyInline>
      )}
      {props.canEdit && (
        <div className="mlops-IntendedUse">
          <div className="mlops-IntendedUseLabel">Intended use</div>
          <textarea
            className="jp-mod-styled mlops-IntendedUseInput"
            rows={3}
            placeholder="What this model is for, and what it must not be used for."
            aria-label="Intended use"
            value={text}
            disabled={props.busy}
            onChange={ev => {
              setText(ev.target.value);
              setDirty(true);
            }}
          />
          <div className="mlops-DecisionButtons">
            <button
              className="jp-Button jp-mod-styled jp-mod-accept mlops-SmallButton mlops-IntendedUseSave"
              disabled={props.busy || !dirty}
              onClick={() => void save()}
            >
              {props.busy ? 'Saving…' : 'Save'}
            </button>
            {props.saveError && (
              <span className="mlops-ActionError" role="alert">
                {props.saveError}
              </span>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
