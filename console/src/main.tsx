// Entry point of the web console (served at /console by every master; see
// src/api/routes/console.ts).
import { render } from 'preact';
import { App } from './app.js';

const root = document.getElementById('app');
if (root === null) throw new Error('the page has no #app element');
// The page's "Loading…" placeholder goes; preact would render beside it.
root.replaceChildren();
render(<App />, root);
