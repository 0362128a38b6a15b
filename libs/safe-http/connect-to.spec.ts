import { parseConnectTo } from './index';

describe('parseConnectTo', () => {
  it('reads host:port:address:port entries, IPv6 in brackets, names lower-cased', () => {
    expect(parseConnectTo(' API.example.test:443:127.0.0.1:8443 , v6.example.test:443:[::1]:9443,')).toEqual([
      { host: 'api.example.test', port: 443, address: '127.0.0.1', toPort: 8443 },
      { host: 'v6.example.test', port: 443, address: '::1', toPort: 9443 },
    ]);
    expect(parseConnectTo('')).toEqual([]);
  });

  it.each([
    'api.example.test:443:127.0.0.1',
    'api.example.test:443:localhost:8443', // a static route never resolves a name
    'api.example.test:443:::1:8443',
    'api.example.test:443:[127.0.0.1]:8443',
    'api.example.test:0:127.0.0.1:8443',
    'api.example.test:443:127.0.0.1:70000',
    '127.0.0.1:443:127.0.0.2:8443',
    '-bad-.test:443:127.0.0.1:8443',
    'a.test:443:127.0.0.1:1,a.test:443:127.0.0.2:2',
  ])('refuses %j', (spec) => {
    expect(() => parseConnectTo(spec)).toThrow(TypeError);
  });
});
