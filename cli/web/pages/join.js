/* global document, location, history, URLSearchParams */
// Opening an invite link: the token rides in the URL fragment, which browsers never send to a
// server nor put in a Referer; it is posted once, exchanged for an HttpOnly session cookie, and
// wiped from the address bar and history.
import { api } from '/assets/api.js';

const status = document.getElementById('status');
const token = new URLSearchParams(location.hash.slice(1)).get('token');
history.replaceState(null, '', '/join');
if (!token) {
  status.textContent = 'This link has no token in it: ask the campaign owner for a new invite.';
} else {
  api
    .post('/api/session', { token })
    .then((s) => location.replace(s.next))
    .catch((err) => {
      status.textContent = `This invite cannot be used: ${err.message}.`;
      status.className = 'error';
    });
}
