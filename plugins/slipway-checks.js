/**
 * Slipway's Gerrit UI plugin: fills the Checks tab of a change with Slipway's pipeline steps.
 *
 * It is a ChecksProvider (Gerrit's JS Checks API) that asks the Slipway reporter for the check runs of
 * the change's patch set; the reporter already answers in the Checks API's shape, so the plugin only
 * turns timestamps into Dates. Install: see docs/gerrit-checks.md. The reporter serves this file with
 * its own public URL filled in at /plugins/slipway-checks.js.
 */
(function () {
  'use strict';
  const REPORTER_URL = '__SLIPWAY_REPORTER_URL__';
  const POLL_SECONDS = 15;
  const TIMESTAMPS = ['scheduledTimestamp', 'startedTimestamp', 'finishedTimestamp'];

  function toDates(run) {
    for (const key of TIMESTAMPS) {
      if (run[key]) run[key] = new Date(run[key]);
    }
    return run;
  }

  async function fetchChecks(changeData) {
    const url = `${REPORTER_URL}/checks/changes/${encodeURIComponent(changeData.changeNumber)}` +
      `/patchsets/${encodeURIComponent(changeData.patchsetNumber)}`;
    try {
      const response = await fetch(url, {credentials: 'omit', headers: {Accept: 'application/json'}});
      if (!response.ok) {
        return {responseCode: 'ERROR', errorMessage: `Slipway answered ${response.status} for ${url}`};
      }
      const body = await response.json();
      return {responseCode: 'OK', runs: (body.runs || []).map(toDates)};
    } catch (e) {
      return {responseCode: 'ERROR', errorMessage: `Slipway cannot be reached at ${REPORTER_URL}: ${e}`};
    }
  }

  Gerrit.install(plugin => {
    plugin.checks().register({fetch: fetchChecks}, {fetchPollingIntervalSeconds: POLL_SECONDS});
  });
})();
