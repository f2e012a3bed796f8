/**
 * The MLOps side panel: a SidePanel (header + toolbar + accordion) with
 * Experiments, Runs, Models, Promotions, Deployments, Alerts, Schedules and Audit
 * sections,
 * rendered with React from an MlopsModel; the header names the user and role.
 */
import { ReactWidget, UseSignal } from '@jupyterlab/apputils';
import {
  caretDownIcon,
  caretRightIcon,
  refreshIcon,
  SidePanel,
  ToolbarButton
} from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  Deployment,
  Experiment,
  ModelVersion,
  RegisteredModel,
  RequestStats
} from './client';
import {
  observedReplicas,
  replicaSummary,
  statusLight,
  statusLightTitle,
  trafficSummary
} from './deployments';
import { AlertList, AlertsEmpty } from './alerts';
import { AuditView } from './audit';
import { identityLabel, pendingCount } from './governance';
import { PromotionList } from './promotions';
import {
  ErrorBanner,
  onEnter,
  onEnterOrSpace,
  ServerMissing,
  Snippet
} from './common';
import { RunsView } from './runstable';
import { IScheduleActions, SchedulesView } from './schedules';
import { scheduleState } from './scheduling';
import { RequestsSparkline } from './sparkline';
import { DriftBadge, driftBadgeTitle } from './drift';
import { formatRelative, formatShortTime, formatTime, shortId } from './format';
import { mlopsIcon } from './icons';
import { MlopsModel } from './model';
import {
  aliasChips,
  aliasClass,
  formatVersion,
  sortAliases,
  sortVersions,
  validationBadge
} from './registry';

export const PANEL_ID = 'mlops-jlab-panel';

/** The id of the Schedules section's widget (to expand it). */
export const SCHEDULES_SECTION_ID = 'mlops-jlab-schedules';

export const QUICKSTART_SNIPPET = `%load_ext mlops_jlab

%%mlops_train --experiment quickstart
model = LogisticRegression().fit(X_train, y_train)`;

export const REGISTER_SNIPPET = `%%mlops_train --experiment churn --register churn
model = RandomForestClassifier().fit(X_train, y_train)`;

export const REGISTER_API_SNIPPET = `import mlops_jlab as mlops
mlops.register_model(run, "churn")`;

export const DEPLOY_SNIPPET = `import mlops_jlab as mlops
dep = mlops.deploy("MODEL@staging")`;

/**
 * Build the side panel.
 */
export function createPanel(
  model: MlopsModel,
  openRun: (runId: string) => void,
  openVersion: (name: string, version: number) => void,
  openDeployment: (name: string) => void,
  compareRuns: (runIds: string[]) => void,
  scheduleActions: IScheduleActions
): SidePanel {
  const panel = new SidePanel();
  panel.id = PANEL_ID;
  panel.addClass('mlops-Panel');
  panel.title.icon = mlopsIcon;
  panel.title.caption = 'MLOps';

  const heading = ReactWidget.create(
    <UseSignal signal={model.changed}>
      {() => (
        <UseSignal signal={model.governance.changed}>
          {() => <PanelHeader model={model} />}
        </UseSignal>
      )}
    </UseSignal>
  );
  heading.addClass('mlops-PanelHeader');
  panel.header.addWidget(heading);

  panel.toolbar.addItem(
    'refresh',
    new ToolbarButton({
      icon: refreshIcon,
      tooltip: 'Refresh (MLOps: Refresh)',
      onClick: () => void model.refresh()
    })
  );

  const experiments = ReactWidget.create(
    <UseSignal signal={model.changed}>
      {() => <ExperimentsView model={model} />}
    </UseSignal>
  );
  experiments.addClass('mlops-Section');
  experiments.addClass('mlops-ExperimentsSection');
  experiments.title.label = 'Experiments';
  panel.addWidget(experiments);

  const runs = ReactWidget.create(
    <UseSignal signal={model.changed}>
      {() => (
        <RunsView model={model} openRun={openRun} compareRuns={compareRuns} />
      )}
    </UseSignal>
  );
  runs.addClass('mlops-Section');
  runs.addClass('mlops-RunsSection');
  runs.title.label = 'Runs';
  panel.addWidget(runs);

  const models = ReactWidget.create(
    <UseSignal signal={model.changed}>
      {() => (
        <ModelsView model={model} openRun={openRun} openVersion={openVersion} />
      )}
    </UseSignal>
  );
  models.addClass('mlops-Section');
  models.addClass('mlops-ModelsSection');
  models.title.label = 'Models';
  panel.addWidget(models);

  const promotions = ReactWidget.create(
    <UseSignal signal={model.governance.changed}>
      {() =>
        model.server.kind === 'missing' ? (
          <ServerMissing what="Promotion requests appear here" />
        ) : (
          <PromotionList model={model.governance} openVersion={openVersion} />
        )
      }
    </UseSignal>
  );
  promotions.addClass('mlops-Section');
  promotions.addClass('mlops-PromotionsSection');
  promotions.title.label = 'Promotions';
  model.governance.changed.connect(() => {
    const pending = pendingCount(model.governance.promotions);
    const label = pending ? `Promotions · ${pending} pending` : 'Promotions';
    if (promotions.title.label !== label) {
      promotions.title.label = label;
    }
  });
  panel.addWidget(promotions);

  const deployments = ReactWidget.create(
    <UseSignal signal={model.changed}>
      {() => <DeploymentsView model={model} openDeployment={openDeployment} />}
    </UseSignal>
  );
  deployments.addClass('mlops-Section');
  deployments.addClass('mlops-DeploymentsSection');
  deployments.title.label = 'Deployments';
  panel.addWidget(deployments);

  const alerts = ReactWidget.create(
    <UseSignal signal={model.alerts.changed}>
      {() => (
        <AlertsView
          model={model}
          openRun={openRun}
          openVersion={openVersion}
          openDeployment={openDeployment}
        />
      )}
    </UseSignal>
  );
  alerts.addClass('mlops-Section');
  alerts.addClass('mlops-AlertsSection');
  alerts.title.label = 'Alerts';
  model.alerts.changed.connect(() => {
    const firing = model.alerts.firingCount;
    const label = firing ? `Alerts · ${firing} firing` : 'Alerts';
    if (alerts.title.label !== label) {
      alerts.title.label = label;
    }
  });
  panel.addWidget(alerts);

  const schedules = ReactWidget.create(
    <UseSignal signal={model.schedules.changed}>
      {() =>
        model.server.kind === 'missing' ? (
          <ServerMissing what="Schedules appear here" />
        ) : (
          <SchedulesView model={model.schedules} actions={scheduleActions} />
        )
      }
    </UseSignal>
  );
  schedules.id = SCHEDULES_SECTION_ID;
  schedules.addClass('mlops-Section');
  schedules.addClass('mlops-SchedulesSection');
  schedules.title.label = 'Schedules';
  model.schedules.changed.connect(() => {
    const failing = (model.schedules.schedules ?? []).filter(
      s => scheduleState(s) === 'failed'
    ).length;
    const label = failing ? `Schedules · ${failing} failing` : 'Schedules';
    if (schedules.title.label !== label) {
      schedules.title.label = label;
    }
  });
  panel.addWidget(schedules);

  const audit = ReactWidget.create(
    <UseSignal signal={model.audit.changed}>
      {() =>
        model.server.kind === 'missing' ? (
          <ServerMissing what="The audit trail appears here" />
        ) : (
          <AuditView model={model.audit} />
        )
      }
    </UseSignal>
  );
  audit.addClass('mlops-Section');
  audit.addClass('mlops-AuditSection');
  audit.title.label = 'Audit';
  panel.addWidget(audit);

  // Give the runs table most of the height.
  const content = panel.content as any;
  if (typeof content.setRelativeSizes === 'function') {
    content.setRelativeSizes([1, 3, 2, 1, 1.5, 1.5, 1.5, 1.5]);
  }
  return panel;
}

/** Expand a section of the panel (by its widget id) and scroll it into view. */
export function showSection(panel: SidePanel, id: string): void {
  const index = panel.widgets.findIndex(w => w.id === id);
  const content = panel.content as any;
  if (index >= 0 && typeof content.expand === 'function') {
    content.expand(index);
  }
  panel.widgets[index]?.node.scrollIntoView({ block: 'nearest' });
}

/** The Alerts section: open alerts of every deployment, newest first. */
function AlertsView(props: {
  model: MlopsModel;
  openRun: (runId: string) => void;
  openVersion: (name: string, version: number) => void;
  openDeployment: (name: string) => void;
}): JSX.Element {
  const { model } = props;
  if (model.server.kind === 'missing') {
    return <ServerMissing what="Alerts appear here" />;
  }
  const active = model.deployments?.find(d => d.status === 'active');
  return (
    <div className="mlops-PanelAlerts">
      <AlertList
        model={model.alerts}
        openDeployment={props.openDeployment}
        openVersion={props.openVersion}
        openRun={props.openRun}
        empty={<AlertsEmpty deployment={active?.name} />}
      />
    </div>
  );
}

/** Title line and the handshake banner. */
function PanelHeader({ model }: { model: MlopsModel }): JSX.Element {
  const server = model.server;
  const me = model.governance.me;
  return (
    <div>
      <div className="mlops-PanelTitleRow">
        <h2 className="mlops-PanelTitle">MLOps</h2>
        {me && (
          <span
            className={`mlops-Identity mlops-role-${me.role}`}
            title={`Signed in as ${me.user}, role ${me.role}. Allowed: ${Object.entries(
              me.can ?? {}
            )
              .filter(([, allowed]) => allowed)
              .map(([what]) => what.replace(/_/g, ' '))
              .join(', ')}`}
            aria-label={identityLabel(me)}
            data-user={me.user}
            data-role={me.role}
          >
            <span className="mlops-IdentityUser">{me.user}</span>
            <span className="mlops-IdentityRole">{me.role}</span>
          </span>
        )}
      </div>
      {server.kind === 'missing' && (
        <ErrorBanner role="alert">
          <strong>The mlops_jlab server extension is not running</strong>
          <p>
            Install it with <code>pip install mlops_jlab</code> and restart
            JupyterLab.
          </p>
          <p className="mlops-Muted">Details: {server.detail}</p>
        </ErrorBanner>
      )}
      {server.kind === 'mismatch' && (
        <div className="mlops-Banner mlops-Banner-warn" role="alert">
          <strong>Version mismatch</strong>
          <p>
            The server extension is version <code>{server.server}</code> but the
            frontend is version <code>{server.frontend}</code>. Reinstall{' '}
            <code>mlops_jlab</code> and restart JupyterLab.
          </p>
        </div>
      )}
      {model.error && server.kind !== 'missing' && (
        <ErrorBanner role="alert">{model.error}</ErrorBanner>
      )}
    </div>
  );
}

function ExperimentsView({ model }: { model: MlopsModel }): JSX.Element {
  const experiments = model.experiments;
  if (model.server.kind === 'missing') {
    return (
      <div className="mlops-Empty">No connection to the server extension.</div>
    );
  }
  if (experiments === null) {
    return <div className="mlops-Empty mlops-Muted">Loading…</div>;
  }
  if (experiments.length === 0) {
    return (
      <div className="mlops-Empty mlops-EmptyExperiments">
        <p>
          <strong>No experiments yet.</strong> Track a training cell in any
          notebook:
        </p>
        <Snippet text={QUICKSTART_SNIPPET} />
        <p className="mlops-Muted">
          Runs appear here as soon as the cell starts.
        </p>
      </div>
    );
  }
  return (
    <ul
      className="mlops-ExperimentList"
      role="listbox"
      aria-label="Experiments"
    >
      {experiments.map(e => (
        <ExperimentItem
          key={e.id}
          experiment={e}
          selected={e.id === model.selectedExperimentId}
          onSelect={() => model.selectExperiment(e.id)}
        />
      ))}
    </ul>
  );
}

function ExperimentItem(props: {
  experiment: Experiment;
  selected: boolean;
  onSelect: () => void;
}): JSX.Element {
  const { experiment: e, selected } = props;
  return (
    <li
      className={`mlops-ExperimentItem${selected ? ' jp-mod-selected mlops-mod-selected' : ''}`}
      role="option"
      aria-selected={selected}
      tabIndex={0}
      title={`${e.name}\ncreated ${formatTime(e.created_at)} by ${e.created_by}`}
      onClick={props.onSelect}
      onKeyDown={onEnterOrSpace(props.onSelect)}
    >
      <span className="mlops-ExperimentName">{e.name}</span>
      <span className="mlops-ExperimentMeta">
        <span className="mlops-Badge" title="runs">
          {e.run_count}
        </span>
        <span className="mlops-Muted" title={formatTime(e.last_run_at)}>
          {e.last_run_at ? formatRelative(e.last_run_at) : 'no runs'}
        </span>
      </span>
    </li>
  );
}

/** A chip per alias: `production → v2` (model) or `production` (version). */
export function AliasChips(props: {
  aliases: { alias: string; label: string }[];
  onRemove?: (alias: string) => void;
  busy?: boolean;
}): JSX.Element | null {
  if (!props.aliases.length) {
    return null;
  }
  return (
    <span className="mlops-AliasChips">
      {props.aliases.map(a => (
        <span
          key={a.alias}
          className={`mlops-AliasChip ${aliasClass(a.alias)}`}
          data-alias={a.alias}
          title={`alias @${a.alias}`}
        >
          {a.label}
          {props.onRemove && (
            <button
              className="mlops-AliasRemove"
              title={`Remove alias ${a.alias}`}
              aria-label={`Remove alias ${a.alias}`}
              disabled={props.busy}
              onClick={ev => {
                ev.stopPropagation();
                props.onRemove!(a.alias);
              }}
            >
              ×
            </button>
          )}
        </span>
      ))}
    </span>
  );
}

/** The aliases of one version as chips, sorted, each labelled with its name. */
export function PlainAliasChips(props: {
  aliases: string[];
  onRemove?: (alias: string) => void;
  busy?: boolean;
}): JSX.Element | null {
  return (
    <AliasChips
      aliases={sortAliases(props.aliases).map(alias => ({
        alias,
        label: alias
      }))}
      onRemove={props.onRemove}
      busy={props.busy}
    />
  );
}

/** The validation badge of a version: ✓ passed, ✗ failed, or grey "not validated". */
export function ValidationBadgeView(props: {
  validation: { passed: boolean; created_at?: number | null } | null;
}): JSX.Element {
  const badge = validationBadge(props.validation, formatTime);
  return (
    <span
      className={`mlops-ValidationBadge mlops-validation-${badge.state}`}
      title={badge.title}
    >
      {badge.icon && <span className="mlops-ValidationIcon">{badge.icon}</span>}
      {badge.label}
    </span>
  );
}

/** The status pill of a model version: pending, ready, failed. */
export function VersionStatus({ status }: { status: string }): JSX.Element {
  return (
    <span
      className={`mlops-VersionStatus mlops-vstatus-${status}`}
      title={`status: ${status}`}
    >
      {status}
    </span>
  );
}

/** Opening a run or a model version in its tab, passed down the Models section. */
interface IOpeners {
  openRun: (runId: string) => void;
  openVersion: (name: string, version: number) => void;
}

function ModelsView(props: IOpeners & { model: MlopsModel }): JSX.Element {
  const { model } = props;
  const models = model.models;
  if (model.server.kind === 'missing') {
    return <ServerMissing what="Models appear here" />;
  }
  if (model.modelsError && models === null) {
    return (
      <div className="mlops-Empty">
        <ErrorBanner role="alert">{model.modelsError}</ErrorBanner>
      </div>
    );
  }
  if (models === null) {
    return <div className="mlops-Empty mlops-Muted">Loading…</div>;
  }
  if (models.length === 0) {
    return (
      <div className="mlops-Empty mlops-EmptyModels">
        <p>
          <strong>No registered models yet.</strong> Register the model of a
          training cell:
        </p>
        <Snippet text={REGISTER_SNIPPET} />
        <p>or an existing run from Python:</p>
        <Snippet text={REGISTER_API_SNIPPET} />
      </div>
    );
  }
  return (
    <>
      {model.modelsError && (
        <ErrorBanner role="alert">{model.modelsError}</ErrorBanner>
      )}
      <ul className="mlops-ModelList" aria-label="Registered models">
        {models.map(m => (
          <ModelItem
            key={m.name}
            model={model}
            registered={m}
            openRun={props.openRun}
            openVersion={props.openVersion}
          />
        ))}
      </ul>
    </>
  );
}

function ModelItem(
  props: IOpeners & { model: MlopsModel; registered: RegisteredModel }
): JSX.Element {
  const { model, registered: m } = props;
  const expanded = model.isModelExpanded(m.name);
  const Caret = expanded ? caretDownIcon : caretRightIcon;
  const toggle = () => void model.toggleModel(m.name);
  return (
    <li className="mlops-ModelItem" data-model={m.name}>
      <div
        className={`mlops-ModelRow${expanded ? ' mlops-mod-expanded' : ''}`}
        role="button"
        aria-expanded={expanded}
        tabIndex={0}
        title={`${m.name}${m.description ? `\n${m.description}` : ''}\ncreated ${formatTime(m.created_at)} by ${m.created_by}`}
        onClick={toggle}
        onKeyDown={onEnterOrSpace(toggle)}
      >
        <Caret.react tag="span" className="mlops-Caret" />
        <span className="mlops-ModelName">{m.name}</span>
        <span className="mlops-Badge" title="versions">
          {m.version_count}
        </span>
        <AliasChips aliases={aliasChips(m.aliases)} />
      </div>
      {expanded && (
        <VersionList
          model={model}
          name={m.name}
          openRun={props.openRun}
          openVersion={props.openVersion}
        />
      )}
    </li>
  );
}

function VersionList(
  props: IOpeners & { model: MlopsModel; name: string }
): JSX.Element {
  const { model, name } = props;
  const versions = model.versionsOf(name);
  const error = model.versionsError(name);
  if (versions === null) {
    return error ? (
      <div className="mlops-VersionsEmpty mlops-FilterError">{error}</div>
    ) : (
      <div className="mlops-VersionsEmpty mlops-Muted">Loading versions…</div>
    );
  }
  if (versions.length === 0) {
    return (
      <div className="mlops-VersionsEmpty mlops-Muted">
        No versions (archived versions are hidden).
      </div>
    );
  }
  const now = Date.now();
  const current = model.currentModelVersion;
  return (
    <ul className="mlops-VersionList" aria-label={`Versions of ${name}`}>
      {sortVersions(versions).map(v => (
        <VersionRow
          key={v.version}
          version={v}
          now={now}
          current={
            current !== null &&
            current.name === name &&
            current.version === v.version
          }
          openRun={props.openRun}
          openVersion={props.openVersion}
        />
      ))}
    </ul>
  );
}

function VersionRow(
  props: IOpeners & { version: ModelVersion; now: number; current: boolean }
): JSX.Element {
  const { version: v } = props;
  const open = () => props.openVersion(v.name, v.version);
  return (
    <li
      className={`mlops-VersionRow${props.current ? ' mlops-mod-current' : ''}`}
      data-model={v.name}
      data-version={v.version}
      tabIndex={0}
      title={`Open ${v.name} ${formatVersion(v.version)}`}
      onClick={open}
      onKeyDown={onEnter(open)}
    >
      <span className="mlops-VersionNumber">{formatVersion(v.version)}</span>
      <VersionStatus status={v.status} />
      <ValidationBadgeView validation={v.validation} />
      <PlainAliasChips aliases={v.aliases ?? []} />
      <span className="mlops-Spacer" />
      {v.run_id && (
        <a
          className="mlops-Link mlops-VersionRun"
          href="#"
          title={`Open run ${v.run_id}`}
          onClick={ev => {
            ev.preventDefault();
            ev.stopPropagation();
            props.openRun(v.run_id!);
          }}
        >
          run {shortId(v.run_id, 6)}
        </a>
      )}
      <span
        className="mlops-Muted mlops-VersionTime"
        title={formatTime(v.created_at)}
      >
        {formatShortTime(v.created_at, props.now)}
      </span>
    </li>
  );
}

/** The status light of a deployment (green, amber, red, grey). */
export function StatusLight({
  deployment
}: {
  deployment: Pick<Deployment, 'status' | 'observed'>;
}): JSX.Element {
  const light = statusLight(deployment);
  const title = statusLightTitle(deployment);
  return (
    <span
      className={`mlops-StatusLight mlops-light-${light}`}
      data-light={light}
      title={title}
      aria-label={title}
    />
  );
}

/** The environment badge of a deployment: staging, production. */
export function EnvironmentBadge({ env }: { env: string }): JSX.Element {
  return (
    <span
      className={`mlops-EnvBadge mlops-env-${env}`}
      title={`environment: ${env}`}
    >
      {env}
    </span>
  );
}

function DeploymentsView(props: {
  model: MlopsModel;
  openDeployment: (name: string) => void;
}): JSX.Element {
  const { model } = props;
  const deployments = model.deployments;
  if (model.server.kind === 'missing') {
    return <ServerMissing what="Deployments appear here" />;
  }
  if (model.deploymentsError && deployments === null) {
    return (
      <div className="mlops-Empty">
        <ErrorBanner role="alert">{model.deploymentsError}</ErrorBanner>
      </div>
    );
  }
  if (deployments === null) {
    return <div className="mlops-Empty mlops-Muted">Loading…</div>;
  }
  if (deployments.length === 0) {
    return (
      <div className="mlops-Empty mlops-EmptyDeployments">
        <p>
          <strong>No deployments yet.</strong> Serve a registered model as a
          REST endpoint:
        </p>
        <Snippet text={DEPLOY_SNIPPET} />
      </div>
    );
  }
  return (
    <>
      {model.deploymentsError && (
        <ErrorBanner role="alert">{model.deploymentsError}</ErrorBanner>
      )}
      <ul className="mlops-DeploymentList" aria-label="Deployments">
        {deployments.map(d => (
          <DeploymentRow
            key={d.name}
            deployment={d}
            drift={model.driftBadgeOf(d.name)}
            stats={model.requestStatsOf(d.name)}
            current={d.name === model.currentDeployment}
            open={() => props.openDeployment(d.name)}
          />
        ))}
      </ul>
    </>
  );
}

function DeploymentRow(props: {
  deployment: Deployment;
  drift: DriftBadge | null;
  current: boolean;
  open: () => void;
  /** Requests over the last minutes (active deployments), for the sparkline. */
  stats: RequestStats | null;
}): JSX.Element {
  const { deployment: d } = props;
  const traffic = trafficSummary(d.desired?.traffic);
  return (
    <li
      className={`mlops-DeploymentRow${props.current ? ' mlops-mod-current' : ''}${d.status !== 'active' ? ' mlops-mod-stopped' : ''}`}
      data-deployment={d.name}
      tabIndex={0}
      title={`Open deployment ${d.name} (${d.status}, revision ${d.revision})`}
      onClick={props.open}
      onKeyDown={onEnter(props.open)}
    >
      <StatusLight deployment={d} />
      <span className="mlops-DeploymentMain">
        <span className="mlops-DeploymentName">{d.name}</span>
        <span className="mlops-Muted mlops-DeploymentTraffic" title={traffic}>
          {d.model} {traffic}
        </span>
      </span>
      {d.status === 'active' && <RequestsSparkline stats={props.stats} />}
      {props.drift && <DriftBadgeView badge={props.drift} />}
      <AlertCountBadge counts={d.monitoring?.alerts} />
      <EnvironmentBadge env={d.environment} />
      {d.status === 'active' ? (
        <span
          className="mlops-Badge mlops-DeploymentReplicas"
          title={
            observedReplicas(d)
              ? 'replicas ready / desired'
              : 'desired replicas (this server does not run the controller)'
          }
        >
          {replicaSummary(d)}
        </span>
      ) : (
        <span className={`mlops-DeploymentStatus mlops-dstatus-${d.status}`}>
          {d.status}
        </span>
      )}
    </li>
  );
}

/** The panel's drift badge: the newest recorded report found dataset drift. */
function DriftBadgeView({ badge }: { badge: DriftBadge }): JSX.Element {
  const title = driftBadgeTitle(badge, formatTime);
  return (
    <span className="mlops-DriftBadge" title={title}>
      <span aria-hidden="true">▲</span> drift
    </span>
  );
}

/** The number of firing alerts of a deployment (its row in the panel). */
function AlertCountBadge(props: {
  counts: { firing: number; acknowledged: number } | null | undefined;
}): JSX.Element | null {
  const firing = props.counts?.firing ?? 0;
  if (!firing) {
    return null;
  }
  const acknowledged = props.counts?.acknowledged ?? 0;
  return (
    <span
      className="mlops-AlertCountBadge"
      title={`${firing} firing alert${firing === 1 ? '' : 's'}${acknowledged ? `, ${acknowledged} acknowledged` : ''}`}
    >
      <span aria-hidden="true">●</span> {firing}
    </span>
  );
}
