import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, savedToken, saveToken } from './api.js';
import { ArchiveView } from './views/archive.js';
import { DeadLettersView, DeadLetterView } from './views/dead-letters.js';
import { LoginView } from './views/login.js';
import { OverviewView } from './views/overview.js';
import { RulesView } from './views/rules.js';
import { TailView } from './views/tail.js';
import { TimersView, TimerView } from './views/timers.js';

const sections = [
  ['overview', 'Overview'],
  ['rules', 'Rules'],
  ['dead-letters', 'Dead letters'],
  ['tail', 'Live tail'],
  ['timers', 'Timers'],
  ['archive', 'Archive replay'],
] as const;

interface Route {
  path: string[];
  params: URLSearchParams;
}

/**
 * The route is the URL's hash (#/dead-letters/<id>, #/dead-letters?target=x): links work, Back
 * works, and the server has one page to serve.
 */
function currentRoute(): Route {
  const [path = '', search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  return {
    path: path ? path.split('/').map(decodeURIComponent) : ['overview'],
    params: new URLSearchParams(search),
  };
}

type Access = 'checking' | 'granted' | 'login';

function App() {
  const [route, setRoute] = useState(currentRoute);
  const [access, setAccess] = useState<Access>('checking');
  const [loginError, setLoginError] = useState<string>();

  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  // One cheap call tells whether this browser may read: without a valid token where one is
  // needed, 401. A 403 lets the operator in: the token is good, and each view says what it lacks.
  const check = async () => {
    try {
      await api('GET', '/v1/targets');
      setAccess('granted');
      setLoginError(undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        setLoginError(savedToken() ? err.message : undefined);
        saveToken(null);
        setAccess('login');
      } else {
        setAccess('granted'); // the views show what fails, and why
      }
    }
  };
  useEffect(() => void check(), []);

  if (access === 'checking') return <p class="loading">Loading…</p>;
  if (access === 'login')
    return (
      <LoginView
        error={loginError}
        onToken={(token) => {
          saveToken(token);
          void check();
        }}
      />
    );

  const [section = 'overview', ...rest] = route.path;
  return (
    <>
      <header>
        <strong class="brand">Fuze</strong>
        <nav aria-label="Sections">
          {sections.map(([id, title]) => (
            <a key={id} href={`#/${id}`} aria-current={id === section ? 'page' : undefined}>
              {title}
            </a>
          ))}
        </nav>
        {savedToken() && (
          <button
            type="button"
            class="link"
            onClick={() => {
              saveToken(null);
              setAccess('login');
            }}
          >
            Log out
          </button>
        )}
      </header>
      <main>{viewOf(section, rest, route.params)}</main>
    </>
  );
}

function viewOf(section: string, rest: string[], params: URLSearchParams) {
  switch (section) {
    case 'rules':
      return <RulesView />;
    case 'dead-letters':
      return rest[0] ? (
        <DeadLetterView id={rest[0]} />
      ) : (
        <DeadLettersView key={params.toString()} initial={params} />
      );
    case 'tail':
      return <TailView />;
    case 'timers':
      return rest[0] ? <TimerView timerKey={rest.join('/')} /> : <TimersView />;
    case 'archive':
      return <ArchiveView />;
    default:
      return <OverviewView />;
  }
}

render(<App />, document.getElementById('app')!);
