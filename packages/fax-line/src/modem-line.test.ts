import { createModemLine } from './modem-line';

describe('createModemLine', () => {
  it('builds the driver the configuration names, behind the one line interface', async () => {
    const class1 = createModemLine({ id: 'm1', device: '/dev/ttyS0', serviceClass: 'class1', maxRate: 9600 });
    const class2 = createModemLine({ id: 'm2', device: '/dev/ttyS1', serviceClass: 'class2.0' });
    expect([class1.id, class1.kind]).toEqual(['m1', 'class1']);
    expect([class2.id, class2.kind]).toEqual(['m2', 'class2.0']);
    expect([class1.mode, class2.mode]).toEqual(['send', 'send']);
    const answering = createModemLine({ id: 'm3', device: '/dev/ttyS2', serviceClass: 'class1', mode: 'both', number: '2002' });
    expect([answering.kind, answering.mode]).toEqual(['class1', 'both']);
    await Promise.all([class1.close(), class2.close(), answering.close()]);
  });
});
