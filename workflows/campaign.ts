// The campaign workflow: snapshot the audience, then each wave after its durable delay — email and
// SMS in batches over customer-id ranges with bounded concurrency, mail as a print job that waits
// for the operator to confirm the posting, calls as tasks for the account managers that it waits on
// until they are settled or due — then the response window, the feedback into customer records and
// the final summary. Pause, resume, cancel and skip-wait are signals, confirmMailing is an update,
// progress is a query. It continues as new at every wave boundary, and within a wave after
// `batchesPerRun` batches or when Temporal suggests it, so a campaign of any length and size keeps
// a short history. A campaign with a fallback checks its goal at check_at (a timer whose deadline
// is carried across continue-as-new) and, below pace, adds a cohort whose waves run in a child of
// this same workflow. Only ids, counts and ranges pass through here.
import {
  ActivityCancellationType,
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { createCampaignActivities } from '../activities/campaign.ts';
import {
  callsChangedSignal,
  cancelSignal,
  cohortDoneSignal,
  confirmMailingUpdate,
  FINAL_WAVE_STATUSES,
  pauseSignal,
  postingDateProblem,
  progressQuery,
  resumeSignal,
  skipWaitSignal,
  type Attention,
  type BatchResult,
  type CampaignProgress,
  type CampaignResume,
  type CampaignStatus,
  type CampaignWave,
  type CampaignWorkflowInput,
  type GoalCheckState,
  type WaveProgress,
} from './contract.ts';

type CampaignActivities = ReturnType<typeof createCampaignActivities>;

const quick = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '15 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
});

export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignProgress> {
  // Runs started before this patch keep their old behaviour on replay: a cancel there ended waits
  // but not a step under way (an activity retried for ever kept the campaign running).
  const cancelEndsSteps = patched('cancel-ends-steps');
  // The extension waits for its lock and may be cut off by a dying worker: a short heartbeat, retried.
  const extension = proxyActivities<CampaignActivities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: input.heartbeatTimeoutMs ?? 30_000,
    retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
  });
  const { sendWaveBatch, exportMailWave } = proxyActivities<CampaignActivities>({
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: input.heartbeatTimeoutMs ?? 30_000,
    // A cancelled batch is waited for, so that nothing is sent after the campaign says cancelled.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  const cohortRun = input.cohortRun;
  /** Which cohort's members the activities take: only set for a campaign that can have several. */
  const cohortArg = cohortRun ? { cohort: cohortRun.cohort } : input.fallback ? { cohort: 1 } : {};
  const progress: CampaignProgress = input.resume?.progress ?? {
    status: 'snapshot',
    members: 0,
    contactable: 0,
    holdout: 0,
    suppressed: 0,
    ...(cohortRun ? { cohort: cohortRun.cohort } : {}),
    waves: input.waves.map((w) => ({
      name: w.name,
      channel: w.channel,
      status: 'waiting',
      planned: 0,
      sent: 0,
      failed: 0,
      uncertain: 0,
      suppressed: 0,
      deferred: 0,
    })),
  };
  let paused = input.resume?.paused ?? false;
  let cancelled = false;
  let skip = input.resume?.skip ?? false;
  /** Set when outcomes were recorded: a call wave waiting on its tasks looks at them now. */
  let callsChanged = false;
  // The fallback (the campaign's own run only; a cohort's run has none): when to check, what it did.
  const fallback = cohortRun ? undefined : input.fallback;
  const goal: GoalCheckState | undefined = fallback
    ? (input.resume?.goal ?? {
        startedAt: new Date(Date.now()).toISOString(),
        checkAt: new Date(Date.now() + fallback.checkAtMs).toISOString(),
        checked: false,
        cohortDone: false,
      })
    : undefined;
  if (goal && !progress.fallback) progress.fallback = { checkAt: goal.checkAt!, cohorts: [] };
  /** What the campaign's own run waits on after its waves: skip-wait ends the check's wait, or goes to the cohort. */
  let awaiting: 'waves' | 'check' | 'cohort' = 'waves';
  let checkNow = false;
  /** Controls reach the cohort's run too, while it runs. */
  const forward = (signal: SignalDefinition) => {
    if (goal?.cohortWorkflowId && !goal.cohortDone)
      void getExternalWorkflowHandle(goal.cohortWorkflowId)
        .signal(signal)
        .catch(() => undefined);
  };
  let attention: Attention | undefined;
  const confirmations = new Map<string, string>();
  const shownStatus = (): CampaignStatus =>
    cancelled
      ? 'cancelled'
      : attention
        ? 'needs_attention'
        : paused && progress.status === 'running'
          ? 'paused'
          : progress.status;
  const setStatus = (status: CampaignStatus) => {
    progress.status = status;
    upsertSearchAttributes({ MailroomStatus: [shownStatus()] });
  };
  // After a cancel no wave reads as still going (awaiting confirmation, waiting, sending).
  const shownWaves = () =>
    cancelled
      ? progress.waves.map((w) => (FINAL_WAVE_STATUSES.includes(w.status) ? w : { ...w, status: 'cancelled' as const }))
      : progress.waves;
  setHandler(progressQuery, () => ({
    ...progress,
    status: shownStatus(),
    waves: shownWaves(),
    ...(attention ? { attention } : {}),
  }));
  const showStatus = () => upsertSearchAttributes({ MailroomStatus: [shownStatus()] });
  setHandler(pauseSignal, () => {
    paused = true;
    forward(pauseSignal);
    showStatus();
  });
  // Resume also tries again a step that needed attention, once its cause is fixed.
  setHandler(resumeSignal, () => {
    paused = false;
    attention = undefined;
    forward(resumeSignal);
    showStatus();
  });
  setHandler(callsChangedSignal, () => {
    callsChanged = true;
    forward(callsChangedSignal);
  });
  setHandler(cohortDoneSignal, ({ cohort, waves, status }) => {
    if (goal) goal.cohortDone = true;
    const c = progress.fallback?.cohorts.find((k) => k.cohort === cohort);
    if (c) Object.assign(c, { waves, status });
  });
  // Batches under way are cancelled too: they stop taking new members at their next heartbeat.
  let batches: CancellationScope | undefined;
  /** Steps under way (activities, retried for as long as they fail): a cancel stops them too. */
  const steps = new Set<CancellationScope>();
  setHandler(cancelSignal, () => {
    cancelled = true;
    forward(cancelSignal);
    batches?.cancel();
    for (const step of steps) step.cancel();
    showStatus();
  });
  /** Runs a step that a cancel stops; one started after the cancel (feedback, summary) runs to its end. */
  const stoppable = <T>(run: () => Promise<T>): Promise<T> =>
    !cancelEndsSteps || cancelled
      ? run()
      : CancellationScope.cancellable(async () => {
          const scope = CancellationScope.current();
          steps.add(scope);
          try {
            return await run();
          } finally {
            steps.delete(scope);
          }
        });

  /**
   * Runs a step; when it fails for a reason the user must fix (a non-retryable failure: a template
   * missing on the worker, a campaign that no longer parses), the campaign stands in
   * needs_attention with the message until it is resumed, then tries the step again. Any other
   * failure is retried by Temporal meanwhile. Undefined when the campaign is cancelled while it waits
   * or while the step runs.
   */
  const attended = async <T>(step: string, run: () => Promise<T>): Promise<T | undefined> => {
    for (;;) {
      try {
        return await stoppable(run);
      } catch (error) {
        if (cancelEndsSteps && cancelled && isCancellation(error)) return undefined;
        const cause = error instanceof ActivityFailure ? error.cause : undefined;
        if (!(cause instanceof ApplicationFailure && cause.nonRetryable)) throw error;
        attention = { step, message: cause.message, since: new Date(Date.now()).toISOString() };
        showStatus();
        await condition(() => attention === undefined || cancelled);
        if (cancelled) return undefined;
      }
    }
  };
  setHandler(skipWaitSignal, () => {
    if (awaiting === 'check') checkNow = true;
    else if (awaiting === 'cohort') forward(skipWaitSignal);
    else skip = true;
  });
  setHandler(
    confirmMailingUpdate,
    async ({ wave, date }) => {
      confirmations.set(wave, date ?? new Date(Date.now()).toISOString().slice(0, 10));
      const wp = progress.waves.find((w) => w.name === wave)!;
      // The wave always moves on, a cancel included: it stops recordMailing however long that is
      // retried, and a confirmation taken before the cancel is still recorded (the letters went).
      await condition(() => wp.status !== 'awaiting_confirmation');
      if (wp.status !== 'mailed')
        throw ApplicationFailure.create({
          message: `the campaign was cancelled before the posting of wave ${wave} was recorded`,
          nonRetryable: true,
        });
      return wp;
    },
    {
      validator: ({ wave, date }) => {
        const wp = progress.waves.find((w) => w.name === wave);
        if (!wp)
          throw new Error(
            `the campaign has no wave ${wave}; its waves: ${progress.waves.map((w) => w.name).join(', ')}`,
          );
        if (wp.channel !== 'mail')
          throw new Error(`wave ${wave} is a ${wp.channel} wave; only mail waves are confirmed`);
        if (cancelled) throw new Error(`the campaign was cancelled`);
        if (wp.status !== 'awaiting_confirmation')
          throw new Error(`wave ${wave} is not waiting for confirmation (it is ${wp.status})`);
        const given = confirmations.get(wave);
        if (given !== undefined)
          throw new Error(`wave ${wave} was confirmed already (posted on ${given}); its posting is being recorded`);
        // No date that is not a real one, in the future or before the printing reaches the activity.
        const problem =
          date === undefined ? undefined : postingDateProblem(date, { now: Date.now(), printedAt: wp.printedAt });
        if (problem) throw new Error(problem);
      },
    },
  );

  let ranges = input.resume?.ranges ?? [];
  if (!input.resume && cohortRun) {
    // A cohort's run: its members were added by the extension; no snapshot of its own.
    Object.assign(progress, {
      members: cohortRun.members,
      contactable: cohortRun.contactable,
      holdout: cohortRun.holdout,
      suppressed: cohortRun.suppressed,
    });
    ranges = cohortRun.ranges;
    setStatus('running');
  } else if (!input.resume) {
    upsertSearchAttributes({ MailroomCampaign: [input.slug], MailroomStatus: ['snapshot'] });
    const snap = await attended('snapshotCampaign', () =>
      quick.snapshotCampaign({
        campaignId: input.campaignId,
        batchSize: input.batchSize ?? 1000,
        ...(input.asOf ? { asOf: input.asOf } : {}),
      }),
    );
    if (snap) {
      Object.assign(progress, {
        members: snap.members,
        contactable: snap.contactable,
        holdout: snap.holdout,
        suppressed: snap.suppressed,
      });
      ranges = snap.ranges;
    }
    setStatus('running');
  }

  /** A durable wait that skip-wait and cancel end early. A skip sent between waits ends the next one. */
  const wait = async (ms: number) => {
    if (ms > 0) await condition(() => skip || cancelled, ms);
    skip = false;
  };

  let batchesThisRun = 0;
  /** A long wave's history is kept short: past the limit, lanes stop taking ranges and the run continues as new. */
  const rollOver = () => batchesThisRun >= (input.batchesPerRun ?? 2000) || workflowInfo().continueAsNewSuggested;

  /** Sends a wave from range `first`; returns the first range left for the next run, if it stopped to roll over. */
  const sendWave = async (wave: CampaignWave, wp: WaveProgress, first: number): Promise<number | undefined> => {
    wp.status = 'sending';
    const lanes = Math.max(1, input.concurrency ?? 4);
    let next = first;
    let rolled = false;
    /** Counts a range's latest result: its ledger totals replace what its earlier results counted. */
    const add = (r: BatchResult, previous: BatchResult | undefined) => {
      if (!previous) {
        wp.planned += r.planned;
        wp.suppressed += r.suppressed;
      }
      // Results recorded before batches reported range totals count per call.
      const now = r.totals ?? { sent: r.sent, failed: r.failed, uncertain: r.uncertain, recovered: 0 };
      const was = r.totals
        ? (previous?.totals ?? { sent: 0, failed: 0, uncertain: 0, recovered: 0 })
        : { sent: 0, failed: 0, uncertain: 0, recovered: 0 };
      wp.sent += now.sent - was.sent;
      wp.failed += now.failed - was.failed;
      wp.uncertain += now.uncertain - was.uncertain;
      wp.recovered = (wp.recovered ?? 0) + now.recovered - was.recovered;
    };
    const lane = async () => {
      while (next < ranges.length && !cancelled && !rolled) {
        await condition(() => !paused || cancelled);
        // Another lane may have taken the last range while this one waited.
        if (cancelled || next >= ranges.length) return;
        if (rollOver()) {
          rolled = true;
          return;
        }
        batchesThisRun++;
        const [from, to] = ranges[next++]!;
        const batch = { campaignId: input.campaignId, wave: wave.name, from, to, lanes, ...cohortArg };
        let result = await attended('sendWaveBatch', () => sendWaveBatch(batch));
        if (!result) return;
        add(result, undefined);
        wp.deferred += result.deferred;
        // Members in their quiet hours are tried again later, never dropped.
        while (result.deferred > 0 && !cancelled) {
          await sleep(input.deferRetryMs ?? 15 * 60_000);
          const previous: BatchResult = result;
          const again = await attended('sendWaveBatch', () => sendWaveBatch(batch));
          if (!again) return;
          result = again;
          add(result, previous);
          wp.deferred += result.deferred - previous.deferred;
        }
      }
    };
    try {
      await CancellationScope.cancellable(async () => {
        batches = CancellationScope.current();
        await Promise.all(Array.from({ length: lanes }, lane));
      });
    } catch (error) {
      if (!isCancellation(error)) throw error;
    } finally {
      batches = undefined;
    }
    if (rolled && !cancelled && next < ranges.length) return next;
    wp.status = cancelled ? 'cancelled' : 'done';
    return undefined;
  };

  const mailWave = async (wave: CampaignWave, wp: WaveProgress) => {
    wp.status = 'printing';
    const job = await attended('exportMailWave', () =>
      exportMailWave({ campaignId: input.campaignId, wave: wave.name, ...cohortArg }),
    );
    if (!job) {
      wp.status = 'cancelled';
      return;
    }
    wp.planned = job.pieces;
    wp.suppressed = job.suppressed;
    const confirmWithinMs = wave.confirmWithinMs ?? 14 * 86_400_000;
    wp.printedAt = new Date(Date.now()).toISOString();
    wp.printDir = job.out;
    wp.confirmBy = new Date(Date.now() + confirmWithinMs).toISOString();
    wp.status = 'awaiting_confirmation';
    // The print shop has the files; the operator says when the letters were posted.
    const confirmed = await condition(() => confirmations.has(wave.name) || cancelled, confirmWithinMs);
    if (confirmed && confirmations.has(wave.name)) {
      const date = confirmations.get(wave.name)!;
      const mailing = await attended('recordMailing', () =>
        quick.recordMailing({ campaignId: input.campaignId, wave: wave.name, date, ...cohortArg }),
      );
      delete wp.confirmBy;
      if (!mailing && cancelled) {
        wp.status = 'cancelled';
        return;
      }
      wp.sent = mailing?.mailed ?? wp.sent;
      wp.mailedOn = date;
      wp.status = 'mailed';
    } else {
      delete wp.confirmBy;
      wp.status = cancelled ? 'cancelled' : 'unconfirmed';
    }
  };

  /**
   * A call wave: a task per targeted member, assigned batch by batch, then a durable wait until
   * every task is settled or failed, or the due time passes (then the open ones are overdue,
   * reported and not dropped). Recorded outcomes wake it (callsChanged); it also looks every
   * `callCheckMs`. Skip-wait ends the wait as the due time would.
   */
  const callWave = async (wave: CampaignWave, wp: WaveProgress) => {
    wp.status = 'assigning';
    const dueAt = Date.now() + (wave.dueWithinMs ?? 7 * 86_400_000);
    wp.dueAt = new Date(dueAt).toISOString();
    wp.planned = 0;
    for (const [from, to] of ranges) {
      await condition(() => !paused || cancelled);
      if (cancelled) break;
      const assigned = await attended('assignCallBatch', () =>
        quick.assignCallBatch({
          campaignId: input.campaignId,
          wave: wave.name,
          from,
          to,
          dueAt: wp.dueAt!,
          ...cohortArg,
        }),
      );
      if (!assigned) break;
      wp.planned += assigned.total;
    }
    if (!cancelled) wp.status = 'calling';
    skip = false;
    callsChanged = false;
    while (!cancelled) {
      const due = skip || Date.now() >= dueAt;
      const counts = await attended('checkCallWave', () =>
        quick.checkCallWave({
          campaignId: input.campaignId,
          wave: wave.name,
          ...cohortArg,
          ...(due ? { overdueAt: wp.dueAt! } : {}),
        }),
      );
      if (!counts) break;
      const { planned, ...calls } = counts;
      Object.assign(wp, { planned, sent: calls.reached, failed: calls.failed, calls });
      if (due || calls.open + calls.overdue === 0) break;
      const waitMs = Math.max(1, Math.min(input.callCheckMs ?? 15 * 60_000, dueAt - Date.now()));
      await condition(() => callsChanged || skip || cancelled, waitMs);
      callsChanged = false;
    }
    skip = false;
    wp.status = cancelled ? 'cancelled' : 'done';
  };

  /**
   * The fallback's check, beside the waves: at check_at after the start (skip-wait brings it
   * forward once the waves are done), the responses goal against its pace; below it (or always,
   * without below_pace) the audience is extended as cohort 2 and a child of this workflow runs the
   * waves for it. A run that continues as new waits for a check under way, then starts the timer
   * again from the carried deadline.
   */
  let checkBusy = false;
  const runCheck = async () => {
    if (!goal || !fallback || goal.checked) return;
    const ms = Date.parse(goal.checkAt!) - Date.now();
    if (ms > 0) await condition(() => checkNow || cancelled, ms);
    if (cancelled) return;
    checkBusy = true;
    try {
      const at = new Date(Date.now()).toISOString();
      const target = input.goals?.responses;
      const measured = target
        ? await attended('goalPace', () =>
            quick.goalPace({ campaignId: input.campaignId, ...target, startedAt: goal.startedAt, at }),
          )
        : { responses: 0, pace: 0 };
      if (!measured) return;
      const extend = !fallback.belowPace || measured.responses < measured.pace;
      if (extend) {
        const added = await attended('extendCampaignAudience', () =>
          extension.extendCampaignAudience({
            campaignId: input.campaignId,
            cohort: 2,
            extendTo: fallback.extendTo,
            batchSize: input.batchSize ?? 1000,
            ...measured,
          }),
        );
        if (!added) return;
        const workflowId = `${workflowInfo().workflowId}-cohort-${added.cohort}`;
        const { resume: _resume, goals: _goals, fallback: _fallback, ...base } = input;
        await startChild(campaignWorkflow, {
          workflowId,
          args: [
            {
              ...base,
              cohortRun: {
                cohort: added.cohort,
                parentWorkflowId: workflowInfo().workflowId,
                members: added.members,
                contactable: added.contactable,
                holdout: added.holdout,
                suppressed: added.suppressed,
                ranges: added.ranges,
              },
            },
          ],
          // The cohort's run outlives each run of this one (continue-as-new) and tells it when it is done.
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
        goal.cohortWorkflowId = workflowId;
        progress.fallback!.cohorts.push({
          cohort: added.cohort,
          workflowId,
          members: added.members,
          contactable: added.contactable,
          holdout: added.holdout,
          suppressed: added.suppressed,
          status: 'running',
        });
        if (paused) forward(pauseSignal);
      }
      progress.fallback!.checked = { at, ...measured, extended: extend };
      goal.checked = true;
    } finally {
      checkBusy = false;
    }
  };
  const checking = runCheck();

  const carry = (nextWave: number, nextRange?: number): CampaignResume => ({
    progress,
    ranges,
    nextWave,
    paused,
    skip,
    ...(nextRange !== undefined ? { nextRange } : {}),
    ...(goal ? { goal } : {}),
  });
  /** Continues as new once no handler and no check is under way. */
  const startAfresh = async (resume: CampaignResume) => {
    await condition(() => !checkBusy);
    await condition(allHandlersFinished);
    await continueAsNew<typeof campaignWorkflow>({ ...input, resume });
  };
  for (let index = input.resume?.nextWave ?? 0; index < input.waves.length; index++) {
    const wave = input.waves[index]!;
    const wp = progress.waves[index]!;
    // A wave carried over mid-way goes on at once; any other waits its delay first.
    const midWave = index === input.resume?.nextWave && input.resume.nextRange !== undefined;
    if (!midWave) {
      if (wave.afterMs > 0) wp.waitUntil = new Date(Date.now() + wave.afterMs).toISOString();
      await wait(wave.afterMs);
      delete wp.waitUntil;
    }
    if (cancelled) break;
    await condition(() => !paused || cancelled);
    if (cancelled) break;
    if (wave.channel === 'mail') await mailWave(wave, wp);
    else if (wave.channel === 'call') await callWave(wave, wp);
    else {
      const left = await sendWave(wave, wp, midWave ? input.resume!.nextRange! : 0);
      if (left !== undefined) await startAfresh(carry(index, left));
    }
    // The campaign row shows the campaign's own waves; a cohort's are in its progress.
    if (!cohortRun)
      await attended('recordWaveProgress', () => quick.recordWaveProgress({ campaignId: input.campaignId, progress }));
    if (cancelled) break;
    // A wave boundary: start a fresh history for what is left, carrying only counts and ranges.
    if (index + 1 < input.waves.length) await startAfresh(carry(index + 1));
  }

  if (cohortRun) {
    // A cohort's run ends with its waves: the campaign's own run waits for the responses and sums up.
    for (const w of progress.waves) if (!FINAL_WAVE_STATUSES.includes(w.status)) w.status = 'cancelled';
    setStatus(cancelled ? 'cancelled' : 'completed');
    await getExternalWorkflowHandle(cohortRun.parentWorkflowId)
      .signal(cohortDoneSignal, { cohort: cohortRun.cohort, waves: progress.waves, status: shownStatus() })
      .catch(() => undefined);
    await condition(allHandlersFinished);
    return { ...progress, status: shownStatus() };
  }
  if (goal) {
    // Not before the fallback's check, nor before the cohort it added has had its waves.
    awaiting = 'check';
    // A skip sent between waits ends the next one: here, the wait for the check.
    if (skip) [checkNow, skip] = [true, false];
    await checking;
    awaiting = 'cohort';
    if (goal.cohortWorkflowId) await condition(() => goal.cohortDone || cancelled);
    awaiting = 'waves';
  }

  if (!cancelled) {
    setStatus('response_window');
    const windowMs = input.responseWindowMs ?? 0;
    progress.windowEndsAt = new Date(Date.now() + windowMs).toISOString();
    await wait(windowMs);
    delete progress.windowEndsAt;
  }
  if (cancelled) for (const w of progress.waves) if (!FINAL_WAVE_STATUSES.includes(w.status)) w.status = 'cancelled';
  // Feedback runs for a cancelled campaign too: whoever was contacted was contacted.
  progress.status = 'feedback';
  await attended('applyFeedback', () => quick.applyFeedback({ campaignId: input.campaignId }));
  const summary = await attended('summarizeCampaign', () =>
    quick.summarizeCampaign({ campaignId: input.campaignId, progress, cancelled }),
  );
  if (summary) progress.summary = summary;
  setStatus(cancelled ? 'cancelled' : 'completed');
  await condition(allHandlersFinished);
  return { ...progress, status: shownStatus() };
}
