/* global document, fetch, window */
// Boots the whole Hydrogen app (login, session list, room list, room, composer) exactly as
// Hydrogen's own web build does, with the homeserver taken from /config.json (written by
// the test's static server: the Sluice under test). Errors land on window.__hydrogenErrors
// so the test can report them.
import { Platform, FeatureSet, RootViewModel, createNavigation, createRouter } from "hydrogen-view-sdk";

window.__hydrogenErrors = [];
window.addEventListener("error", (e) => window.__hydrogenErrors.push(String(e.error?.stack ?? e.message)));
window.addEventListener("unhandledrejection", (e) => window.__hydrogenErrors.push(String(e.reason?.stack ?? e.reason)));

async function main() {
  const config = await (await fetch("/config.json")).json();
  const assetPaths = {
    downloadSandbox: "/assets/download-sandbox.html",
    worker: "/assets/main.js",
    // Hydrogen's login crashes without its service worker (it carries the auth data for media).
    serviceWorker: "/sw.js",
    olm: { wasm: "/npm/@matrix-org/olm/olm.wasm", legacyBundle: "/npm/@matrix-org/olm/olm_legacy.js", wasmBundle: "/npm/@matrix-org/olm/olm.js" },
  };
  const container = document.getElementById("app");
  const platform = new Platform({ container, assetPaths, config, options: { development: true } });
  await platform.init();
  const features = await FeatureSet.load(platform.settingsStorage);
  const navigation = createNavigation();
  platform.setNavigation(navigation);
  const urlRouter = createRouter({ navigation, history: platform.history });
  urlRouter.attach();
  const vm = new RootViewModel({ platform, navigation, urlRouter, features });
  await vm.load();
  platform.createAndMountRootView(vm);
  window.__hydrogenReady = true;
}

main().catch((e) => window.__hydrogenErrors.push(String(e?.stack ?? e)));
